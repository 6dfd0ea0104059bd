-- One ledger row per part (_day_parts: the columns of pipeline.ledger.frame.PART_SCHEMA) in the
-- reporting currency ($currency): billed and effective cost converted at the day's rate
-- (staging.fx_rates), exactly, rounded half to even once per row (pipeline.money.convert); the
-- reporting currency converts at 1.
-- lineage_id: md5 of source, source_ref, day, model, category, subcategory, reason and split key.
-- fx_missing.sql finds a part with no rate before this runs.

with parts as (
    select * from _day_parts
),

rated as (
    select
        p.*,
        case when p.source_currency = $currency then 1::decimal(38, 10) else r.rate end as fx_rate
    from parts as p
    left join staging.fx_rates as r
        on p.charge_date = r.rate_date and p.source_currency = r.currency
),

-- amount x rate in 1e-28 (exact), where the rate is not 1
products as (
    select
        *,
        case when fx_rate <> 1 then money_quanta(source_amount) * rate_quanta(fx_rate) end as billed_n,
        case when fx_rate <> 1 then money_quanta(source_effective_amount) * rate_quanta(fx_rate) end as effective_n
    from rated
),

floors as (
    select
        *,
        floor_div_bounded(billed_n, 10000000000::hugeint) as billed_floor,
        floor_div_bounded(effective_n, 10000000000::hugeint) as effective_floor
    from products
),


final as (
    select
        charge_date,
        billing_period,
        model_id,
        category,
        subcategory,
        case when fx_rate = 1 then source_amount
            else money_of(even_round(billed_n, 10000000000::hugeint, billed_floor)) end as billed_cost,
        case when fx_rate = 1 then source_effective_amount
            else money_of(even_round(effective_n, 10000000000::hugeint, effective_floor)) end as effective_cost,
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
        $run_id as run_id
    from floors
)

select * from final
