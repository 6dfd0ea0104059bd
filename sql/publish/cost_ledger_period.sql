-- The period's candidate rows that changed (_changed_rows, from changed_rows.sql), in the
-- published ledger's order (a first publish: cost_ledger_days.sql). The days of the changed rows
-- are tested first: a cheap test on a date, so that the lineage ids are looked up only on those
-- days.
insert into ledger.cost_ledger
select * exclude (row_hash) from ledger.cost_ledger_candidate
where
    billing_period = $period
    and (charge_date is null or charge_date in (select charge_date from _changed_rows))
    and lineage_id in (select lineage_id from _changed_rows)
order by charge_date, model_id, category, subcategory, lineage_id
