-- Each model's cost of serving in the month (marts.unit_costs: inference-phase rows) beside its
-- requests and tokens; a model with volume and no cost, or cost and no volume, has a row too.
-- The volume is read from staging.usage: the mart holds it only for days with a cost.
with cost as (
    select model_id, sum(effective_cost) as effective_cost
    from marts.unit_costs
    where charge_date >= $start and charge_date < $end and not list_contains($buckets, model_id)
    group by model_id
),

volume as (
    select
        model_id,
        sum(requests) as requests,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens
    from staging.usage
    where usage_date >= $start and usage_date < $end
    group by model_id
),

final as (
    select
        coalesce(cost.model_id, volume.model_id) as model_id,
        coalesce(cost.effective_cost, 0) as effective_cost,
        volume.requests,
        volume.tokens
    from cost
    full outer join volume on volume.model_id = cost.model_id
)

select * from final order by model_id
