-- One row per shared pool (meta.shared_pools) that splits its rows, and model: the model's weight.
-- proportional: its effective cost in the period's direct and GPU-pool billing parts (the kept
-- candidate, ledger.cost_ledger_candidate, $period), in whole cents, truncated; even: 1 a model;
-- fixed: meta.shared_pool_weights. Only registered models with a weight above 0 take part; a pool
-- none of whose models does gives its rows to __shared__ (weight 1). A pool with policy keep, or
-- a configuration with no models, is not here: its rows stay __shared__, unsplit.

with registered as (
    select model_id from meta.models
),

direct_cost as (
    select model_id, trunc(sum(source_effective_amount) * 100)::bigint as w
    from ledger.cost_ledger_candidate
    where
        billing_period = $period
        and source = 'billing'
        and allocation_method in ('direct', 'gpu_time', 'gpu_utilisation')
        and model_id in (select model_id from registered)
    group by model_id
),

pools as (
    select * from meta.shared_pools
    where policy <> 'keep' and exists (select 1 from registered)
),

weights as (
    select p.name as pool, d.model_id, d.w
    from pools as p
    cross join direct_cost as d
    where p.policy = 'proportional'
    union all
    select p.name, m.model_id, 1
    from pools as p
    cross join registered as m
    where p.policy = 'even'
    union all
    select p.name, w.model_id, w.weight
    from pools as p
    inner join meta.shared_pool_weights as w on p.name = w.pool_name
    where p.policy = 'fixed'
),

positive as (
    select * from weights where w > 0
),

final as (
    select pool, model_id, w from positive
    union all
    select p.name, '__shared__', 1
    from pools as p
    where p.name not in (select pool from positive)
)

select * from final
