-- A first publish of $period, one day at a time (pipeline.run.publish): the candidate's rows of the
-- day $day (null: the rows with no charge date), in the published ledger's order. The published
-- rows are so stored day after day, and a query of some days reads only their row groups; and no
-- month of rows is sorted at once (at 15 M rows that sort spilled to disk and took 2.5 times as
-- long as the days one by one).
insert into ledger.cost_ledger
select * from ledger.cost_ledger_candidate
where billing_period = $period and charge_date is not distinct from $day
order by model_id, category, subcategory, lineage_id
