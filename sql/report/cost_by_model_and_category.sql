-- The month's effective and billed cost by model and category, with every subtotal (a null
-- model_id or category is "all"); a month without rows has none, not a row of nulls.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
),

final as (
    select
        model_id,
        category,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from month_rows
    group by grouping sets ((model_id, category), (model_id), (category), ())
    having count(*) > 0
)

select * from final
