-- One row per billing part (the query put in place of billing_parts: pipeline.ledger.candidate.
-- day_parts) and day it covers: a part whose charge period lies in one day takes that day; a part
-- covering several days is split over them by the whole seconds it overlaps each, exactly (floor
-- shares, the leftover quanta to the largest remainders, ties: the earliest day), as
-- pipeline.ledger.billing.spread_over_days.

with parts as (
    select
        *,
        ChargePeriodEnd <= ChargePeriodStart
        or ChargePeriodStart::date = (ChargePeriodEnd - interval 1 microsecond)::date as one_day
    from ($billing_parts)
),

days as (
    select
        *, unnest(generate_series(
            ChargePeriodStart::date::timestamp,
            (ChargePeriodEnd - interval 1 microsecond)::date::timestamp,
            interval 1 day
        )) as day_start
    from parts
    where not one_day
),

overlapped as (
    select
        *,
        (
            epoch_us(least(ChargePeriodEnd, day_start + interval 1 day))
            - epoch_us(greatest(ChargePeriodStart, day_start))
        )
        // 1000000 as seconds,
        money_quanta(source_amount) as billed_q,
        money_quanta(source_effective_amount) as effective_q,
        money_quanta(quantity) as quantity_q
    from days
),

-- a part's days are one split (part_key)
weighed as (
    select
        *,
        sum(seconds) over (partition by source_ref, model_id, unallocated_reason, split_key) as total,
        struct_pack(source_ref, model_id, unallocated_reason, split_key) as part_key
    from overlapped
),

floors as (
    select
        *,
        floor_div(billed_q * seconds, total) as billed_base,
        floor_div(effective_q * seconds, total) as effective_base,
        floor_div(quantity_q * seconds, total) as quantity_base
    from weighed
),

shares as (
    select
        *,
        largest_remainder_part(billed_q, seconds, total, billed_base, part_key, day_start) as billed_part,
        largest_remainder_part(effective_q, seconds, total, effective_base, part_key, day_start) as effective_part,
        largest_remainder_part(quantity_q, seconds, total, quantity_base, part_key, day_start) as quantity_part
    from floors
),

rounded as (
    select *, floor_div_bounded(quantity_part, 1000000000::hugeint) as quantity_floor
    from shares
),

spread as (
    select
        day_start::date as charge_date,
        billing_period,
        model_id,
        category,
        subcategory,
        money_of(billed_part) as source_amount,
        money_of(effective_part) as source_effective_amount,
        source_currency,
        quantity_of_nanos(even_round(quantity_part, 1000000000::hugeint, quantity_floor)) as quantity,
        quantity_unit,
        source,
        provider,
        allocation_method,
        allocation_share,
        unallocated_reason,
        source_ref,
        split_key
    from rounded
),

final as (
    select
        ChargePeriodStart::date as charge_date,
        billing_period,
        model_id,
        category,
        subcategory,
        source_amount,
        source_effective_amount,
        source_currency,
        quantity,
        quantity_unit,
        source,
        provider,
        allocation_method,
        allocation_share,
        unallocated_reason,
        source_ref,
        split_key
    from parts
    where one_day
    union all
    select * from spread
)

select * from final
