-- One ledger row per part (the query put in place of day_parts, with the columns of
-- pipeline.ledger.frame.PART_SCHEMA: pipeline.ledger.candidate._keyed_rows) in the reporting
-- currency ($currency): billed and effective cost converted at the day's rate (staging.fx_rates),
-- exactly, rounded half to even once per row (pipeline.money.convert); the
-- reporting currency converts at 1.
-- lineage_id: md5 of source, source_ref, day, model, category, subcategory, reason and split key.
-- fx_missing.sql finds a part with no rate before this runs.
-- cost_basis: 'opportunity' for the milestones' cost of delay (money nobody was billed), else
-- 'cash'. An opportunity row carries billed_cost 0 and effective_cost 0; its amount (its
-- source_effective_amount converted) is in economic_cost only. A cash row's economic_cost is its
-- effective_cost. So billed and effective totals stay what was billed and amortised, and
-- economic_cost = effective_cost + cost of delay, on every grain.
-- phase: a GPU split's holder `<model>~<phase>` (a workload rule with a phase) gives its model and
-- phase; any other row takes its source's default phase (meta.phase_defaults, else inference).

with parts as (
    select
        * exclude (model_id),
        split_part(model_id, '~', 1) as model_id,
        nullif(split_part(model_id, '~', 2), '') as rule_phase,
        case when source in ('milestones') then 'opportunity' else 'cash' end as cost_basis
    from ($day_parts)
),

rated as (
    select
        p.*,
        case when p.source_currency = $currency then 1::decimal(38, 10) else r.rate end as fx_rate
    from parts as p
    left join staging.fx_rates as r
        on p.charge_date = r.rate_date and p.source_currency = r.currency
),

phased as (
    select r.*, coalesce(r.rule_phase, d.phase, 'inference') as phase
    from rated as r
    left join meta.phase_defaults as d on d.source = r.source
),

-- amount and rate as integers (quanta, 1e-10), where the rate is not 1
quanta as (
    select
        *,
        case when fx_rate <> 1 then money_quanta(source_amount) end as billed_q,
        case when fx_rate <> 1 then money_quanta(source_effective_amount) end as effective_q,
        case when fx_rate <> 1 then rate_quanta(fx_rate) end as r
    from phased
),

-- the conversion in three steps (macros.sql: convert_hi, convert_low, convert_round)
highs as (
    select *, convert_hi(billed_q) as billed_hi, convert_hi(effective_q) as effective_hi
    from quanta
),

lows as (
    select *, convert_low(billed_q, billed_hi, r) as billed_n, convert_low(effective_q, effective_hi, r) as effective_n
    from highs
),

floors as (
    select
        *,
        floor_div_bounded(billed_n, 10000000000::hugeint) as billed_floor,
        floor_div_bounded(effective_n, 10000000000::hugeint) as effective_floor
    from lows
),

converted as (
    select
        *,
        case
            when fx_rate = 1 then source_effective_amount
            else money_of(convert_round(effective_hi, r, effective_n, effective_floor))
        end as effective_converted
    from floors
),

final as (
    select
        charge_date,
        billing_period,
        model_id,
        category,
        subcategory,
        case
            when cost_basis = 'opportunity' then 0::decimal(38, 18)
            when fx_rate = 1 then source_amount
            else money_of(convert_round(billed_hi, r, billed_n, billed_floor))
        end as billed_cost,
        case when cost_basis = 'opportunity' then 0::decimal(38, 18) else effective_converted end as effective_cost,
        $currency as currency,
        source_amount,
        source_effective_amount,
        source_currency,
        fx_rate,
        quantity,
        quantity_unit,
        source,
        provider,
        allocation_method,
        allocation_share,
        unallocated_reason,
        md5(
            coalesce(source, '') || '|' || coalesce(source_ref, '') || '|' || coalesce(charge_date::varchar, '') || '|'
            || coalesce(model_id, '') || '|' || coalesce(category, '') || '|' || coalesce(subcategory, '') || '|'
            || coalesce(unallocated_reason, '') || '|' || coalesce(split_key, '')
        ) as lineage_id,
        source_ref,
        $run_id as run_id,
        cost_basis,
        phase,
        effective_converted as economic_cost
    from converted
)

select * from final
