-- One row per shared pool (meta.shared_pools) that splits its rows, weight day and model: the
-- model's weight for the pool's rows of that charge day (weight_day null: of every day).
-- proportional: its effective cost in the period's direct and GPU-pool billing parts (the kept
-- candidate, ledger.cost_ledger_candidate, $period), in whole cents, truncated, of each charge day
-- (weight_window day) or of the whole period (month); even: 1 a model; fixed:
-- meta.shared_pool_weights. Only registered models with a weight above 0 are here: a pool's row
-- of a day with none (and every row of a pool with policy keep, or of a configuration with no
-- models) stays __shared__, unsplit (shared_pool_parts.sql).

with registered as (
    select model_id from meta.models
),

direct_cost as (
    select charge_date, model_id, sum(source_effective_amount) as amount
    from ledger.cost_ledger_candidate
    where
        billing_period = $period
        and source = 'billing'
        and allocation_method in ('direct', 'gpu_time', 'gpu_utilisation')
        and model_id in (select model_id from registered)
    group by charge_date, model_id
),

pools as (
    select * from meta.shared_pools
    where policy <> 'keep' and exists (select 1 from registered)
),

weights as (
    select p.name as pool, d.charge_date as weight_day, d.model_id, trunc(d.amount * 100)::bigint as w
    from pools as p
    cross join direct_cost as d
    where p.policy = 'proportional' and p.weight_window = 'day'
    union all
    select p.name, null, d.model_id, trunc(sum(d.amount) * 100)::bigint
    from pools as p
    cross join direct_cost as d
    where p.policy = 'proportional' and p.weight_window = 'month'
    group by p.name, d.model_id
    union all
    select p.name, null, m.model_id, 1
    from pools as p
    cross join registered as m
    where p.policy = 'even'
    union all
    select p.name, null, w.model_id, w.weight
    from pools as p
    inner join meta.shared_pool_weights as w on p.name = w.pool_name
    where p.policy = 'fixed'
),

final as (
    select pool, weight_day, model_id, w from weights where w > 0
)

select * from final
