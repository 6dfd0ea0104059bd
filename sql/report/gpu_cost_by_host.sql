with gpu as (
    select
        l.model_id,
        l.source,
        l.effective_cost,
        case
            when l.source = 'billing' then b.ResourceName
            else regexp_extract(l.source_ref, '@([^/]+)/', 1)
        end as host
    from ledger.cost_ledger as l
    left join staging.billing as b
        on l.source = 'billing' and l.source_ref = b.load_id || ':' || b.row_number
    where l.charge_date >= $start and l.charge_date < $end and l.quantity_unit = 'GPU-hours'
),

final as (
    select
        host,
        bool_or(source = 'billing') as cloud,
        sum(effective_cost) as gpu_cost,
        coalesce(sum(effective_cost) filter (where model_id = '__idle__'), 0) as idle_cost
    from gpu
    group by host
)

select * from final order by host
