-- One part per GPU-pool node row (_gpu_rows) and model or bucket, before it is spread over days:
-- the row's cost split by its weights (_gpu_node_weights, gpu_node_weights.sql) exactly: floor
-- shares, the leftover quanta to the largest remainders, ties: the smallest (model, reason).
-- quantity: GPU-hours held, 9 decimals, truncated. Under the pool's idle policy `redistribute`,
-- a row's __idle__ part is split again over the row's registered models by their weight, exactly;
-- it keeps the idle part's share and has no GPU-hours of its own.

with node_rows as (
    select * from _gpu_rows
),

split as (
    select
        r.*,
        w.model_id,
        w.unallocated_reason,
        w.w,
        w.gpu_units,
        sum(w.w) over (partition by r.source_ref) as total,
        money_quanta(r.source_amount) as billed_q,
        money_quanta(r.source_effective_amount) as effective_q
    from node_rows as r
    inner join _gpu_node_weights as w on r.source_ref = w.source_ref
),

floors as (
    select
        *,
        floor_div(billed_q * w, total) as billed_base,
        floor_div(effective_q * w, total) as effective_base,
        floor_div_bounded(w * 1000000000000000000::hugeint, total) as share_q
    from split
),

-- ties go to the smallest (model, reason)
holders as (
    select
        *,
        struct_pack(model_id, unallocated_reason) as holder
    from floors
),

shares as (
    select
        *,
        largest_remainder_part(billed_q, w, total, billed_base, source_ref, holder) as billed_part,
        largest_remainder_part(effective_q, w, total, effective_base, source_ref, holder) as effective_part
    from holders
),

parts as (
    select
        r.*,
        money_of(share_q) as allocation_share,
        quantity_of_nanos(floor_div_bounded(gpu_units * 1000000000, s.slices * 3600000)) as gpu_hours,
        p.idle = 'redistribute' as redistribute
    from shares as r
    inner join _gpu_slices as s on r.pool = s.pool
    inner join _gpu_policies as p on r.pool = p.pool
),

-- idle = redistribute: a row's __idle__ part goes to its registered models by their weight
takers as (
    select i.source_ref, m.model_id, m.w, i.billed_part, i.effective_part
    from parts as i
    inner join parts as m
        on i.source_ref = m.source_ref and m.model_id not in ('__idle__', '__unallocated__', '__shared__')
    where i.redistribute and i.model_id = '__idle__'
),

moved as (
    select
        *,
        floor_div(billed_part * w, total) as billed_base,
        floor_div(effective_part * w, total) as effective_base
    from (select *, sum(w) over (partition by source_ref) as total from takers) as weighed
),

moved_parts as (
    select
        *,
        largest_remainder_part(billed_part, w, total, billed_base, source_ref, model_id) as moved_billed,
        largest_remainder_part(effective_part, w, total, effective_base, source_ref, model_id) as moved_effective
    from moved
),

redistributed as (
    select
        i.billing_period,
        m.model_id,
        i.category,
        m.moved_billed as billed_part,
        m.moved_effective as effective_part,
        i.source_currency,
        0::decimal(38, 9) as quantity,
        i.provider,
        i.pool,
        i.allocation_share,
        cast(null as varchar) as unallocated_reason,
        i.source_ref,
        '__idle__||idle_redistributed' as split_key,
        i.ChargePeriodStart,
        i.ChargePeriodEnd
    from moved_parts as m
    inner join parts as i on m.source_ref = i.source_ref and i.model_id = '__idle__'
),

kept as (
    select
        billing_period,
        model_id,
        category,
        billed_part,
        effective_part,
        source_currency,
        gpu_hours as quantity,
        provider,
        pool,
        allocation_share,
        unallocated_reason,
        source_ref,
        model_id || '|' || coalesce(unallocated_reason, '') as split_key,
        ChargePeriodStart, ChargePeriodEnd
    from parts
    where not (model_id = '__idle__' and source_ref in (select source_ref from takers))
),

final as (
    select
        k.billing_period,
        k.model_id,
        k.category,
        'gpu_compute' as subcategory,
        money_of(k.billed_part) as source_amount,
        money_of(k.effective_part) as source_effective_amount,
        k.source_currency,
        k.quantity,
        'GPU-hours' as quantity_unit,
        'billing' as source,
        k.provider,
        case when p.policy = 'utilisation' then 'gpu_utilisation' else 'gpu_time' end as allocation_method,
        k.allocation_share,
        k.unallocated_reason,
        k.source_ref,
        k.split_key,
        k.ChargePeriodStart,
        k.ChargePeriodEnd
    from (select * from kept union all select * from redistributed) as k
    inner join _gpu_policies as p on k.pool = p.pool
)

select * from final
