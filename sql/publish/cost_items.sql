-- Effective cost and quantity per month, model, category, subcategory and quantity unit (the
-- items of a price, volume and mix split), for charge dates in [$start, $end).
select
    strftime(charge_date, '%Y-%m') as month,
    model_id,
    category,
    currency,
    subcategory,
    quantity_unit,
    sum(effective_cost) as cost,
    sum(quantity) as quantity
from ledger.cost_ledger
where charge_date >= $start and charge_date < $end
group by month, model_id, category, currency, subcategory, quantity_unit
order by month, model_id, category, currency, subcategory, quantity_unit
