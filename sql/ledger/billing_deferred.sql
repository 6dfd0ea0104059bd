create table if not exists ledger.billing_deferred (
    recipe          varchar not null,
    load_id         varchar not null,
    billing_period  varchar not null,
    row_number      bigint not null,
    route           varchar not null
);
comment on table ledger.billing_deferred is 'Billing rows whose split needs the whole period (GPU-pool nodes: the telemetry; shared pools: every model''s direct cost), per file version and recipe: each build re-reads only these from staging.billing.';
comment on column ledger.billing_deferred.recipe is 'As ledger.billing_parts.recipe.';
comment on column ledger.billing_deferred.load_id is 'The billing file version (staging.billing.load_id).';
comment on column ledger.billing_deferred.billing_period is 'Billing period YYYY-MM of the row.';
comment on column ledger.billing_deferred.row_number is 'staging.billing.row_number of the row.';
comment on column ledger.billing_deferred.route is 'gpu_pool or shared.';
