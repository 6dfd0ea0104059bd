-- Per GPU pool (a [[gpu_pools]] name, or owned) over the month: GPU-hours paid, those no workload
-- held (__idle__), and their cost; the idle share of the pool's GPU time is worked out in Python.
with pool_days as (
    select pool, model_id, gpu_hours, cost
    from marts.gpu_efficiency
    where charge_date >= $start and charge_date < $end
),

final as (
    select
        pool,
        sum(gpu_hours) as gpu_hours,
        coalesce(sum(gpu_hours) filter (where model_id = '__idle__'), 0) as idle_hours,
        sum(cost) as cost,
        coalesce(sum(cost) filter (where model_id = '__idle__'), 0) as idle_cost
    from pool_days
    group by pool
)

select * from final order by pool
