-- One row per calendar month and model (or bucket): unit economics, fully loaded (all six
-- categories) and infrastructure-only (hardware + operational: GPUs, servers, storage, network,
-- energy). Each ratio divides the whole cost by one volume (requests, input tokens, output
-- tokens, GPU-hours): they describe the same money from different sides and do not add up.
-- GPU-hours as marts.gpu_efficiency counts them: an owned server's depreciation and maintenance
-- rows split the same GPU time, so each split's hours count once.
-- Serving only: the rows of the inference phase (a model's training, fine-tuning and experiments
-- are not the cost of the requests it serves; cost of delay is opportunity, never effective cost).
create or replace view marts.monthly_unit_costs as
with cost as (
    select
        strftime(charge_date, '%Y-%m') as month,
        model_id,
        currency,
        sum(effective_cost) as effective_cost,
        coalesce(sum(effective_cost) filter (where category in ('hardware', 'operational')), 0) as infrastructure_cost
    from ledger.cost_ledger
    where phase = 'inference'
    group by month, model_id, currency
),

gpu_splits as (
    select charge_date, model_id, unallocated_reason, subcategory, source_ref, sum(quantity) as hours
    from ledger.cost_ledger
    where quantity_unit = 'GPU-hours' and phase = 'inference'
    group by charge_date, model_id, unallocated_reason, subcategory, source_ref
),

gpu as (
    select strftime(charge_date, '%Y-%m') as month, model_id, sum(hours) as gpu_hours
    from (
        select charge_date, model_id, unallocated_reason, source_ref, max(hours) as hours
        from gpu_splits
        group by charge_date, model_id, unallocated_reason, source_ref
    )
    group by month, model_id
),

volume as (
    select
        strftime(usage_date, '%Y-%m') as month,
        model_id,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens
    from staging.usage
    group by month, model_id
),

final as (
    select
        c.month,
        c.model_id,
        c.currency,
        c.effective_cost,
        c.infrastructure_cost,
        v.requests,
        v.input_tokens,
        v.output_tokens,
        g.gpu_hours,
        c.effective_cost * 1000 / nullif(v.requests, 0) as cost_per_1k_requests,
        c.effective_cost * 1000000 / nullif(v.input_tokens, 0) as cost_per_1m_input_tokens,
        c.effective_cost * 1000000 / nullif(v.output_tokens, 0) as cost_per_1m_output_tokens,
        c.effective_cost / nullif(g.gpu_hours, 0) as cost_per_gpu_hour,
        c.infrastructure_cost * 1000 / nullif(v.requests, 0) as infrastructure_cost_per_1k_requests,
        c.infrastructure_cost * 1000000 / nullif(v.input_tokens, 0) as infrastructure_cost_per_1m_input_tokens,
        c.infrastructure_cost * 1000000 / nullif(v.output_tokens, 0) as infrastructure_cost_per_1m_output_tokens,
        c.infrastructure_cost / nullif(g.gpu_hours, 0) as infrastructure_cost_per_gpu_hour
    from cost as c
    left join volume as v
        on v.month = c.month and v.model_id = c.model_id
    left join gpu as g
        on g.month = c.month and g.model_id = c.model_id
)

select * from final;
comment on view marts.monthly_unit_costs is 'One row per calendar month and model: effective cost fully loaded (six categories) and infrastructure-only (hardware + operational), business volume, GPU-hours and unit costs. Unit costs are ratios (DOUBLE) for reading; each divides the whole cost by one volume, so they do not add up.';
comment on column marts.monthly_unit_costs.month is 'Calendar month YYYY-MM of the charge date.';
comment on column marts.monthly_unit_costs.model_id is 'Model or bucket.';
comment on column marts.monthly_unit_costs.currency is 'Reporting currency.';
comment on column marts.monthly_unit_costs.effective_cost is 'Fully loaded cost of serving: inference-phase rows of all categories, exact.';
comment on column marts.monthly_unit_costs.infrastructure_cost is 'Hardware + operational, exact.';
comment on column marts.monthly_unit_costs.requests is 'Requests served in the month (staging.usage).';
comment on column marts.monthly_unit_costs.input_tokens is 'Input tokens processed in the month.';
comment on column marts.monthly_unit_costs.output_tokens is 'Output tokens generated in the month.';
comment on column marts.monthly_unit_costs.gpu_hours is 'GPU-hours attributed in the month (each split of GPU time once).';
comment on column marts.monthly_unit_costs.cost_per_1k_requests is 'effective_cost x 1000 / requests.';
comment on column marts.monthly_unit_costs.cost_per_1m_input_tokens is 'effective_cost x 1e6 / input_tokens.';
comment on column marts.monthly_unit_costs.cost_per_1m_output_tokens is 'effective_cost x 1e6 / output_tokens.';
comment on column marts.monthly_unit_costs.cost_per_gpu_hour is 'effective_cost / gpu_hours.';
comment on column marts.monthly_unit_costs.infrastructure_cost_per_1k_requests is 'infrastructure_cost x 1000 / requests.';
comment on column marts.monthly_unit_costs.infrastructure_cost_per_1m_input_tokens is 'infrastructure_cost x 1e6 / input_tokens.';
comment on column marts.monthly_unit_costs.infrastructure_cost_per_1m_output_tokens is 'infrastructure_cost x 1e6 / output_tokens.';
comment on column marts.monthly_unit_costs.infrastructure_cost_per_gpu_hour is 'infrastructure_cost / gpu_hours.';
