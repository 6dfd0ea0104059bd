-- The period's candidate rows, in the published ledger's order.
insert into ledger.cost_ledger
select * from ledger.cost_ledger_candidate
where billing_period = $period
order by charge_date, model_id, category, subcategory, lineage_id
