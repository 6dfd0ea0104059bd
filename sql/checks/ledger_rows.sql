-- Candidate ledger rows of the period; money as float (warn checks only). A month can hold tens of
-- millions of rows, too many to hand to pandas: GX sees every row that breaks a fail rule of the
-- suites on this frame (the suspect predicate, written from the suites by `suspect_sql`, found here in
-- DuckDB) plus the first $sample rows by lineage id (digests: a fixed pseudo-random sample, for
-- the `mostly` warnings). A candidate of up to $sample rows is seen whole. $days: the days to
-- check (a validation checks again only the days that changed), null for every day;
-- $charge_date_checked: a row's charge_date is one of them (day_checked, pipeline/check_queries.py).
-- Neither CTE is materialized: the sample and the unique rule read only lineage_id of the table,
-- and the casts are made for the rows picked (a month of rows written out whole took 2.5 times as
-- long at 15 M rows).
with candidate as not materialized (
    select *
    from ledger.cost_ledger_candidate
    where
        billing_period = $period
        and $charge_date_checked
),

final as not materialized (
    select
        lineage_id,
        model_id,
        category,
        subcategory,
        currency,
        source_currency,
        run_id,
        charge_date,
        allocation_method,
        cost_basis,
        phase,
        -- an opportunity row (cost of delay) bills nothing and amortises nothing: its amount is economic_cost
        cost_basis = 'cash' or (billed_cost = 0 and effective_cost = 0) as opportunity_unbilled,
        cast(billed_cost as double) as billed_cost,
        cast(effective_cost as double) as effective_cost,
        not coalesce(model_id = $unallocated and unallocated_reason is null, false)
            as unallocated_reason_given
    from candidate
),

sampled as (
    select max(lineage_id) as last_id
    from (select lineage_id from final order by lineage_id limit $sample)
),

picked as (
    select *
    from final
    where coalesce($suspect, false) or lineage_id <= (select last_id from sampled)
)

select * from picked
order by lineage_id
