select model_id, sum(effective_cost) as gpu_cost, sum(quantity) as gpu_hours
from ledger.cost_ledger
where
    charge_date >= $start and charge_date < $end and quantity_unit = 'GPU-hours'
    and model_id not like '\_\_%' escape '\'
group by model_id
order by model_id
