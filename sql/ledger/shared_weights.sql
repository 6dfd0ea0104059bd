create table if not exists ledger.shared_weights (
    billing_period  varchar not null,
    pool            varchar not null,
    model_id        varchar not null,
    w               bigint not null
);
comment on table ledger.shared_weights is 'One row per billing period, shared pool and model: the weights the kept candidate''s shared-pool rows were split with (sql/ledger/passes/shared_pool_weights.sql). A build whose weights differ (a proportional pool, when the direct cost changed) splits the pool''s rows of the period again.';
comment on column ledger.shared_weights.billing_period is 'Billing period YYYY-MM.';
comment on column ledger.shared_weights.pool is 'As meta.shared_pools.name.';
comment on column ledger.shared_weights.model_id is 'The model (or __shared__).';
comment on column ledger.shared_weights.w is 'Its weight.';
