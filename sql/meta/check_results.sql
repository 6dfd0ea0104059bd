create table if not exists meta.check_results (
    run_id          varchar not null,
    billing_period  varchar not null,
    suite           varchar not null,
    expectation     varchar not null,
    "column"        varchar,
    severity        varchar not null,
    success         boolean not null,
    observed        varchar,
    checked_at      timestamp not null
);
comment on table meta.check_results is 'One row per expectation evaluated on a candidate ledger before publishing.';
comment on column meta.check_results.run_id is 'The build that was checked.';
comment on column meta.check_results.billing_period is 'Billing period (YYYY-MM) checked.';
comment on column meta.check_results.suite is 'Great Expectations suite name (expectations/<suite>.json).';
comment on column meta.check_results.expectation is 'Expectation type.';
comment on column meta.check_results."column" is 'Column it applies to, where it has one.';
comment on column meta.check_results.severity is 'fail (blocks the publish) or warn.';
comment on column meta.check_results.success is 'Whether it passed.';
comment on column meta.check_results.observed is 'What was observed, as reported by Great Expectations.';
comment on column meta.check_results.checked_at is 'When (UTC).';
