-- One check's result, kept in meta.check_results.
insert into meta.check_results
(run_id, billing_period, suite, expectation, "column", severity, success, observed, checked_at)
values ($run_id, $period, $suite, $expectation, $column_name, $severity, $success, $observed, $checked_at)
