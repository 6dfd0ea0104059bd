create or replace view marts.unit_costs as
with cost as (
    select
        charge_date,
        model_id,
        currency,
        sum(effective_cost) as effective_cost,
        sum(quantity) filter (where quantity_unit = 'GPU-hours') as gpu_hours
    from ledger.cost_ledger
    where phase = 'inference'  -- serving: training, fine-tuning, experiments are not its cost
    group by charge_date, model_id, currency
),

volume as (
    select
        usage_date,
        model_id,
        sum(requests) as requests,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens
    from staging.usage
    group by usage_date, model_id
),

final as (
    select
        cost.charge_date,
        cost.model_id,
        cost.currency,
        cost.effective_cost,
        volume.requests,
        volume.tokens,
        cost.gpu_hours,
        cost.effective_cost * 1000 / nullif(volume.requests, 0) as cost_per_1k_requests,
        cost.effective_cost * 1000000 / nullif(volume.tokens, 0) as cost_per_1m_tokens,
        cost.effective_cost / nullif(cost.gpu_hours, 0) as cost_per_gpu_hour
    from cost
    left join volume
        on volume.usage_date = cost.charge_date and volume.model_id = cost.model_id
)

select * from final;
comment on view marts.unit_costs is 'One row per day and model: effective cost of serving (inference-phase rows), business volume and unit costs. Unit costs are ratios (DOUBLE) for reading, not for adding up.';
comment on column marts.unit_costs.charge_date is 'Day (UTC).';
comment on column marts.unit_costs.model_id is 'Model or bucket.';
comment on column marts.unit_costs.currency is 'Reporting currency.';
comment on column marts.unit_costs.effective_cost is 'Inference-phase cost, all categories, exact (cash: cost of delay is not in effective cost).';
comment on column marts.unit_costs.requests is 'Requests served that day (staging.usage).';
comment on column marts.unit_costs.tokens is 'Input plus output tokens that day.';
comment on column marts.unit_costs.gpu_hours is 'Inference-phase GPU-hours attributed that day.';
comment on column marts.unit_costs.cost_per_1k_requests is 'effective_cost x 1000 / requests.';
comment on column marts.unit_costs.cost_per_1m_tokens is 'effective_cost x 1e6 / tokens.';
comment on column marts.unit_costs.cost_per_gpu_hour is 'effective_cost / gpu_hours.';
