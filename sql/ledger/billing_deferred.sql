create table if not exists ledger.billing_deferred (
    recipe                   varchar not null,
    load_id                  varchar not null,
    billing_period           varchar not null,
    row_number               bigint not null,
    route                    varchar not null,
    pool                     varchar,
    gpus                     integer,
    hostname                 varchar,
    category                 varchar,
    subcategory              varchar,
    ChargePeriodStart        timestamp,
    ChargePeriodEnd          timestamp,
    source_amount            decimal(38, 18),
    source_effective_amount  decimal(38, 18),
    source_currency          varchar,
    quantity                 decimal(38, 9),
    quantity_unit            varchar,
    provider                 varchar
);
-- warehouses created before the routed columns were kept
alter table ledger.billing_deferred add column if not exists pool varchar;
alter table ledger.billing_deferred add column if not exists gpus integer;
alter table ledger.billing_deferred add column if not exists hostname varchar;
alter table ledger.billing_deferred add column if not exists category varchar;
alter table ledger.billing_deferred add column if not exists subcategory varchar;
alter table ledger.billing_deferred add column if not exists ChargePeriodStart timestamp;
alter table ledger.billing_deferred add column if not exists ChargePeriodEnd timestamp;
alter table ledger.billing_deferred add column if not exists source_amount decimal(38, 18);
alter table ledger.billing_deferred add column if not exists source_effective_amount decimal(38, 18);
alter table ledger.billing_deferred add column if not exists source_currency varchar;
alter table ledger.billing_deferred add column if not exists quantity decimal(38, 9);
alter table ledger.billing_deferred add column if not exists quantity_unit varchar;
alter table ledger.billing_deferred add column if not exists provider varchar;
comment on table ledger.billing_deferred is 'Billing rows whose split needs more than the row (GPU-pool nodes: the telemetry of their hours; shared pools: the policy, for proportional pools every model''s direct cost of the day or of the period), per file version and recipe, routed: a build splits them again only when what they depend on changed.';
comment on column ledger.billing_deferred.recipe is 'As ledger.candidate_builds.recipe.';
comment on column ledger.billing_deferred.load_id is 'The billing file version (staging.billing.load_id).';
comment on column ledger.billing_deferred.billing_period is 'Billing period YYYY-MM of the row.';
comment on column ledger.billing_deferred.row_number is 'staging.billing.row_number of the row.';
comment on column ledger.billing_deferred.route is 'gpu_pool or shared.';
comment on column ledger.billing_deferred.pool is 'The GPU pool (meta.gpu_pools.name) or shared pool (meta.shared_pools.name) of the row.';
comment on column ledger.billing_deferred.gpus is 'GPU pool rows: GPUs of the node.';
comment on column ledger.billing_deferred.hostname is 'GPU pool rows: the node''s telemetry host.';
comment on column ledger.billing_deferred.category is 'As ledger.cost_ledger.category.';
comment on column ledger.billing_deferred.subcategory is 'As ledger.cost_ledger.subcategory (before a GPU pool row becomes gpu_compute).';
comment on column ledger.billing_deferred.ChargePeriodStart is 'As staging.billing.ChargePeriodStart.';
comment on column ledger.billing_deferred.ChargePeriodEnd is 'As staging.billing.ChargePeriodEnd.';
comment on column ledger.billing_deferred.source_amount is 'As staging.billing.BilledCost.';
comment on column ledger.billing_deferred.source_effective_amount is 'As staging.billing.EffectiveCost.';
comment on column ledger.billing_deferred.source_currency is 'As staging.billing.BillingCurrency.';
comment on column ledger.billing_deferred.quantity is 'As staging.billing.ConsumedQuantity, 9 decimals (half to even).';
comment on column ledger.billing_deferred.quantity_unit is 'As staging.billing.ConsumedUnit.';
comment on column ledger.billing_deferred.provider is 'As staging.billing.ProviderName.';
