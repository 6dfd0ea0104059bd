-- Effective cost of each day of the month by model.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
)

select charge_date, model_id, sum(effective_cost) as effective_cost
from month_rows
group by charge_date, model_id
order by charge_date, model_id
