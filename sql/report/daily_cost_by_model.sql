-- Effective cost of each day of the month by model (marts.daily_model_cost over its categories).
with month_days as (
    select *
    from marts.daily_model_cost
    where charge_date >= $start and charge_date < $end
)

select charge_date, model_id, sum(effective_cost) as effective_cost
from month_days
group by charge_date, model_id
order by charge_date, model_id
