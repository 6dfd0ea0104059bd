-- The period's candidate rows of the days that changed (_changed_days, from changed_days.sql), in
-- the published ledger's order.
insert into ledger.cost_ledger
select c.* from ledger.cost_ledger_candidate as c
where
    c.billing_period = $period
    and exists (select 1 from _changed_days as d where d.charge_date is not distinct from c.charge_date)
order by c.charge_date, c.model_id, c.category, c.subcategory, c.lineage_id
