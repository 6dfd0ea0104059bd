create table if not exists ledger.shared_weights (
    billing_period  varchar not null,
    pool            varchar not null,
    model_id        varchar not null,
    w               bigint not null
);
alter table ledger.shared_weights add column if not exists charge_date date;
comment on table ledger.shared_weights is 'One row per billing period, shared pool, charge day (null: every day) and model: the weights the kept candidate''s shared-pool rows were split with (sql/ledger/passes/shared_pool_weights.sql). A build whose weights of a day differ (a proportional pool, when that day''s direct cost changed) splits the pool''s rows of that day again.';
comment on column ledger.shared_weights.billing_period is 'Billing period YYYY-MM.';
comment on column ledger.shared_weights.pool is 'As meta.shared_pools.name.';
comment on column ledger.shared_weights.charge_date is 'The charge day these weights split (a proportional pool weighed by day); null: every day of the period.';
comment on column ledger.shared_weights.model_id is 'The model.';
comment on column ledger.shared_weights.w is 'Its weight.';
