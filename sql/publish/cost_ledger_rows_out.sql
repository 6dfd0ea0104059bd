-- The period's published rows that changed (_changed_rows, from changed_rows.sql):
-- cost_ledger_period.sql puts the candidate's rows in their place.
delete from ledger.cost_ledger
where
    billing_period = $period
    and (charge_date is null or charge_date in (select charge_date from _changed_rows))
    and lineage_id in (select lineage_id from _changed_rows)
