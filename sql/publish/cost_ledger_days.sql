-- A first publish of $period, a run of whole days at a time (pipeline.run.publish): the
-- candidate's rows charged from $first to $last (both null: the rows with no charge date), in the
-- published ledger's order. The published rows are so stored day after day, and a query of some
-- days reads only their row groups; and no month of rows is sorted at once (at 15 M rows that
-- sort spilled to disk and took 2.5 times as long as a day or two at a time).
insert into ledger.cost_ledger
select * exclude (row_hash) from ledger.cost_ledger_candidate
where
    billing_period = $period
    and (charge_date between $first and $last or ($first is null and charge_date is null))
order by charge_date, model_id, category, subcategory, lineage_id
