-- The month's cost of delay: economic cost of the opportunity rows (0 without any).
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
)

select coalesce(sum(economic_cost), 0) from month_rows where cost_basis = 'opportunity'
