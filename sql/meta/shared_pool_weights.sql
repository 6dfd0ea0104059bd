create table if not exists meta.shared_pool_weights (
    pool_name  varchar not null,
    model_id   varchar not null,
    weight     bigint not null
);
comment on table meta.shared_pool_weights is 'One row per model weight of a shared pool with policy fixed, from the configuration the last ledger build ran with.';
comment on column meta.shared_pool_weights.pool_name is 'As meta.shared_pools.name.';
comment on column meta.shared_pool_weights.model_id is 'The registered model.';
comment on column meta.shared_pool_weights.weight is 'Its weight (a model with weight 0 takes nothing).';
