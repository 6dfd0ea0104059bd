-- The period's published rows of the days that changed (_changed_days, from changed_days.sql):
-- cost_ledger_period.sql puts the candidate's rows of those days in their place.
delete from ledger.cost_ledger as l
where
    l.billing_period = $period
    and exists (select 1 from _changed_days as d where d.charge_date is not distinct from l.charge_date)
