create table if not exists ledger.candidate_builds (
    billing_period  varchar primary key,
    recipe          varchar not null,
    run_id          varchar not null,
    built_at        timestamp not null
);
comment on table ledger.candidate_builds is 'One row per billing period in ledger.cost_ledger_candidate: what its kept rows were built with. A build under another recipe starts the period from nothing; otherwise it changes only the rows new inputs change (written in the same transaction as them).';
comment on column ledger.candidate_builds.billing_period is 'Billing period YYYY-MM.';
comment on column ledger.candidate_builds.recipe is 'Digest of the config, the category rules and the allocation code (SQL and Python) the rows were made with.';
comment on column ledger.candidate_builds.run_id is 'As ledger.cost_ledger.run_id of the last build: the candidate''s run, which publish gives every published row of the period (a kept candidate row keeps the run_id of the build that wrote it).';
comment on column ledger.candidate_builds.built_at is 'When (UTC).';
