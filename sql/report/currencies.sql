-- The reporting currencies of the month's ledger rows (a report needs exactly one).
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
)

select distinct currency from month_rows order by currency
