-- One part per shared-pool row (_shared_rows) and model, before it is spread over days: rows of a
-- pool with weights (_shared_weights, shared_pool_weights.sql) are split by them exactly (floor
-- shares, the leftover quanta to the largest remainders, ties: the smallest model id); rows of a
-- pool without (policy keep, or no registered models) stay __shared__ whole.

with pool_rows as (
    select * from _shared_rows
),

split as (
    select
        r.*,
        w.model_id,
        w.w,
        sum(w.w) over (partition by r.source_ref) as total,
        money_quanta(r.source_amount) as billed_q,
        money_quanta(r.source_effective_amount) as effective_q,
        money_quanta(r.quantity) as quantity_q
    from pool_rows as r
    inner join _shared_weights as w on r.pool = w.pool
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
        *,
        largest_remainder_part(billed_q, w, total, billed_base, source_ref, model_id) as billed_part,
        largest_remainder_part(effective_q, w, total, effective_base, source_ref, model_id) as effective_part,
        largest_remainder_part(quantity_q, w, total, quantity_base, source_ref, model_id) as quantity_part
    from floors
),

rounded as (
    select *, floor_div_bounded(quantity_part, 1000000000::hugeint) as quantity_floor
    from shares
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
    from pool_rows
    where pool not in (select pool from _shared_weights)
)

select * from final
