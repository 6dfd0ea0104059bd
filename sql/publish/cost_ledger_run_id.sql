-- Every published row of the period takes the candidate's run_id (ledger.candidate_builds): the
-- rows that did not change hold the candidate's values already, and a candidate row keeps the
-- run_id of the build that wrote it.
update ledger.cost_ledger set run_id = $run_id
where billing_period = $period and run_id is distinct from $run_id
