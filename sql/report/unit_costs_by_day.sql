-- Each model's cost of serving on each day of the month, its GPU-hours and the day's requests
-- and tokens (marts.unit_costs), and the part of that cost on GPU-hour rows, which the mart does
-- not hold (the report's cost per GPU-hour divides it, not the whole cost, by the GPU-hours).
-- One mart row per day and model: a report's month has one reporting currency.
with unit_costs as (
    select *
    from marts.unit_costs
    where charge_date >= $start and charge_date < $end and not list_contains($buckets, model_id)
),

gpu_cost as (
    select charge_date, model_id, sum(effective_cost) as gpu_cost
    from ledger.cost_ledger
    where
        charge_date >= $start and charge_date < $end
        and phase = 'inference' and quantity_unit = 'GPU-hours'
    group by charge_date, model_id
),

final as (
    select
        unit_costs.charge_date as day,
        unit_costs.model_id,
        unit_costs.effective_cost,
        coalesce(gpu_cost.gpu_cost, 0) as gpu_cost,
        coalesce(unit_costs.gpu_hours, 0) as gpu_hours,
        unit_costs.requests,
        unit_costs.tokens
    from unit_costs
    left join gpu_cost
        on gpu_cost.charge_date = unit_costs.charge_date and gpu_cost.model_id = unit_costs.model_id
)

select * from final order by day, model_id
