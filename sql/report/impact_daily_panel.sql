with cost as (
    select
        charge_date as day,
        model_id,
        category,
        sum(effective_cost) as effective_cost,
        coalesce(sum(effective_cost) filter (where quantity_unit = $gpu_unit), 0) as gpu_cost
    from ledger.cost_ledger
    where
        charge_date >= $start and charge_date < $end
        and not list_contains($buckets, model_id)
    group by day, model_id, category
),

volume as (
    select usage_date as day, model_id, sum(requests) as requests
    from staging.usage
    where usage_date >= $start and usage_date < $end
    group by day, model_id
),

final as (
    select
        coalesce(cost.day, volume.day) as day,
        coalesce(cost.model_id, volume.model_id) as model_id,
        cost.category,
        cost.effective_cost,
        cost.gpu_cost,
        volume.requests
    from cost
    full outer join volume on volume.day = cost.day and volume.model_id = cost.model_id
)

select * from final order by day, model_id, category
