create table if not exists ledger.billing_allocated (
    recipe          varchar not null,
    load_id         varchar not null,
    billing_period  varchar not null,
    rows_in         bigint not null,
    parts           bigint not null,
    deferred        bigint not null,
    allocated_at    timestamp not null
);
comment on table ledger.billing_allocated is 'One row per billing file version, period and recipe whose rows are in ledger.billing_parts and ledger.billing_deferred (written in the same transaction as them).';
comment on column ledger.billing_allocated.recipe is 'As ledger.billing_parts.recipe.';
comment on column ledger.billing_allocated.load_id is 'The billing file version.';
comment on column ledger.billing_allocated.billing_period is 'Billing period YYYY-MM.';
comment on column ledger.billing_allocated.rows_in is 'Billing rows of the file in the period.';
comment on column ledger.billing_allocated.parts is 'Rows written to ledger.billing_parts.';
comment on column ledger.billing_allocated.deferred is 'Rows written to ledger.billing_deferred.';
comment on column ledger.billing_allocated.allocated_at is 'When (UTC).';
