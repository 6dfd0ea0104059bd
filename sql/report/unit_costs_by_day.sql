-- Each model's cost of serving (inference-phase rows) on each day of the month, the part of it
-- on GPU-hour rows and those GPU-hours, beside the day's requests and tokens.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
),

cost as (
    select
        charge_date as day,
        model_id,
        sum(effective_cost) as effective_cost,
        coalesce(sum(effective_cost) filter (where quantity_unit = 'GPU-hours'), 0) as gpu_cost,
        coalesce(sum(quantity) filter (where quantity_unit = 'GPU-hours'), 0) as gpu_hours
    from month_rows
    where not list_contains($buckets, model_id) and phase = 'inference'  -- the cost of serving
    group by day, model_id
),

volume as (
    select
        usage_date as day,
        model_id,
        sum(requests) as requests,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens
    from staging.usage
    where usage_date >= $start and usage_date < $end
    group by day, model_id
),

final as (
    select cost.*, volume.requests, volume.tokens
    from cost
    left join volume on volume.day = cost.day and volume.model_id = cost.model_id
)

select * from final order by day, model_id
