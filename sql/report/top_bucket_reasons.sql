-- The month's largest amounts no model carries ($buckets): by bucket, reason, category and
-- subcategory, largest first, at most $limit rows.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
),

final as (
    select
        model_id as bucket,
        coalesce(unallocated_reason, '') as reason,
        category,
        subcategory,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from month_rows
    where list_contains($buckets, model_id)
    group by bucket, reason, category, subcategory
)

select * from final
order by abs(effective_cost) desc, bucket, reason, category, subcategory
limit $limit
