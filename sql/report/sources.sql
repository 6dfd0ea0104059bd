-- The sources of the month's ledger rows: a month whose only inputs are HR and milestones (no
-- bill, telemetry, owned server or charge dates it) is flagged incomplete.
with month_rows as (
    select *
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
)

select distinct source from month_rows order by source
