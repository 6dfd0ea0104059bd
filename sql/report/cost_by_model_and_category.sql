-- The month's effective and billed cost by model and category, with every subtotal (a null
-- model_id or category is "all"); a month without rows has none, not a row of nulls.
-- Read from marts.daily_model_cost by charge_date: the same sums as marts.monthly_model_cost,
-- whose month key (a strftime of charge_date) would make DuckDB read every month's rows.
with month_days as (
    select *
    from marts.daily_model_cost
    where charge_date >= $start and charge_date < $end
),

final as (
    select
        model_id,
        category,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from month_days
    group by grouping sets ((model_id, category), (model_id), (category), ())
    having count(*) > 0
)

select * from final
