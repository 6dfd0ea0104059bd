create table if not exists ledger.billing_allocated (
    recipe          varchar not null,
    load_id         varchar not null,
    billing_period  varchar not null,
    rows_in         bigint not null,
    parts           bigint not null,
    deferred        bigint not null,
    allocated_at    timestamp not null
);
comment on table ledger.billing_allocated is 'One row per billing file version, period and recipe whose rows are in the kept candidate (ledger.cost_ledger_candidate) and ledger.billing_deferred (written in the same transaction as them): a build routes only file versions not here.';
comment on column ledger.billing_allocated.recipe is 'As ledger.candidate_builds.recipe.';
comment on column ledger.billing_allocated.load_id is 'The billing file version.';
comment on column ledger.billing_allocated.billing_period is 'Billing period YYYY-MM.';
comment on column ledger.billing_allocated.rows_in is 'Billing rows of the file in the period.';
comment on column ledger.billing_allocated.parts is 'Candidate rows made from the rows routed on their own (direct, commitment purchase, unallocated), days spread.';
comment on column ledger.billing_allocated.deferred is 'Rows written to ledger.billing_deferred.';
comment on column ledger.billing_allocated.allocated_at is 'When (UTC).';
