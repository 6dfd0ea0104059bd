-- Effective cost and quantity per month, model, category, subcategory and quantity unit (the
-- items of a price, volume and mix split), for the months in $months.
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
where strftime(charge_date, '%Y-%m') in (select unnest($months))
group by month, model_id, category, currency, subcategory, quantity_unit
order by month, model_id, category, currency, subcategory, quantity_unit
