-- One part per shared-pool unit and model, before it is spread over days. A unit is a row of a
-- pool whose weights split every day alike (_shared_rows not by_day: policy even, fixed,
-- proportional weighed by the month; weight_day null), or a row's day of a pool weighed by day
-- (_shared_pieces, shared_pool_days.sql: its weight_day and charge period are the day). A unit
-- with weights (_shared_weights of its pool and weight day, shared_pool_weights.sql) is split by
-- them exactly (floor shares, the leftover quanta to the largest remainders, ties: the smallest
-- model id); a unit without (a day no model has a weight for, policy keep, or no registered
-- models) stays __shared__ whole.

-- each unit numbered once (materialized: the splits join their unit again by this number)
with pool_rows as materialized (
    select
        *,
        row_number() over () as split_id
    from (
        select
            billing_period,
            category,
            subcategory,
            source_amount,
            source_effective_amount,
            source_currency,
            quantity,
            quantity_unit,
            provider,
            source_ref,
            pool,
            cast(null as date) as weight_day,
            ChargePeriodStart,
            ChargePeriodEnd
        from _shared_rows
        where not by_day
        union all
        select
            billing_period,
            category,
            subcategory,
            source_amount,
            source_effective_amount,
            source_currency,
            quantity,
            quantity_unit,
            provider,
            source_ref,
            pool,
            weight_day,
            charge_date::timestamp,
            charge_date::timestamp + interval 1 day
        from _shared_pieces
    )
),

-- a weight day's total (null: every day's): a unit is split by all its pool's weights of its day
pool_totals as (
    select pool, weight_day, sum(w) as total from _shared_weights group by pool, weight_day
),

-- the splits on a narrow table (split_id names a row of pool_rows): the windows sort these columns
-- only, and the row's other columns join again at the end
split as (
    select
        r.split_id,
        w.model_id,
        w.w,
        t.total,
        money_quanta(r.source_amount) as billed_q,
        money_quanta(r.source_effective_amount) as effective_q,
        money_quanta(r.quantity) as quantity_q
    from pool_rows as r
    inner join _shared_weights as w on r.pool = w.pool and r.weight_day is not distinct from w.weight_day
    inner join pool_totals as t on r.pool = t.pool and r.weight_day is not distinct from t.weight_day
),

floors as (
    select
        *,
        floor_div(billed_q * w, total) as billed_base,
        floor_div(effective_q * w, total) as effective_base,
        floor_div(quantity_q * w, total) as quantity_base,
        floor_div_bounded(w::hugeint * 1000000000000000000::hugeint, total) as share_q
    from split
),

shares as (
    select
        split_id,
        model_id,
        share_q,
        largest_remainder_part(billed_q, w, total, billed_base, split_id, model_id) as billed_part,
        largest_remainder_part(effective_q, w, total, effective_base, split_id, model_id) as effective_part,
        largest_remainder_part(quantity_q, w, total, quantity_base, split_id, model_id) as quantity_part
    from floors
),

rounded as (
    select s.*, r.* exclude (split_id), floor_div_bounded(s.quantity_part, 1000000000::hugeint) as quantity_floor
    from shares as s
    inner join pool_rows as r on s.split_id = r.split_id
),

final as (
    select
        billing_period,
        model_id,
        category,
        subcategory,
        money_of(billed_part) as source_amount,
        money_of(effective_part) as source_effective_amount,
        source_currency,
        quantity_of_nanos(even_round(quantity_part, 1000000000::hugeint, quantity_floor)) as quantity,
        quantity_unit,
        'billing' as source,
        provider,
        'shared_pool' as allocation_method,
        money_of(share_q) as allocation_share,
        cast(null as varchar) as unallocated_reason,
        source_ref,
        model_id || '|' as split_key,
        ChargePeriodStart,
        ChargePeriodEnd
    from rounded
    union all
    select
        billing_period,
        '__shared__',
        category,
        subcategory,
        source_amount,
        source_effective_amount,
        source_currency,
        quantity,
        quantity_unit,
        'billing',
        provider,
        'shared_pool',
        1::decimal(38, 18),
        cast(null as varchar),
        source_ref,
        '',
        ChargePeriodStart,
        ChargePeriodEnd
    from pool_rows as r
    where not exists (
        select 1 from pool_totals as t
        where t.pool = r.pool and t.weight_day is not distinct from r.weight_day
    )
)

select * from final
