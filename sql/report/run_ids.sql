-- The builds the month's ledger was published from: for each billing period with rows in the
-- month, the run_id of its last successful publish (meta.runs). A row's own run_id is the build
-- that wrote it, which may be an earlier one of the period.
with month_periods as (
    select distinct billing_period
    from ledger.cost_ledger
    where charge_date >= $start and charge_date < $end
),

publishes as (
    select
        p.billing_period,
        arg_max(r.run_id, r.finished_at) as run_id
    from month_periods as p
    inner join meta.runs as r
        on r.command = 'publish' and r.status = 'success' and list_contains(r.periods, p.billing_period)
    group by p.billing_period
)

select distinct run_id from publishes
where run_id is not null
order by run_id
