-- The month's effective (cash) cost by model and phase.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
)

select model_id, phase, sum(effective_cost) as effective_cost
from month_rows
where cost_basis = 'cash'
group by model_id, phase
order by model_id, phase
