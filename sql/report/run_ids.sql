-- The runs that built the month's ledger rows.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
)

select distinct run_id from month_rows order by run_id
