-- The lineage ids (and charge days) of the period whose candidate row differs from its published
-- row, or that only one side holds: publish writes again only these. Rows are compared on every
-- column but run_id (a row keeps the run_id of the build that wrote what publish copied), by two
-- hashes; on every day ($every_day), or on the days whose digest changed since they were
-- published (_days_to_compare, days_to_compare.sql) and rows without a charge date.
with candidate as (
    select c.lineage_id, c.charge_date, hash(c) as h, hash(c, 'publish') as h2
    from (
        select * exclude (run_id, row_hash) from ledger.cost_ledger_candidate
        where
            billing_period = $period
            and ($every_day or charge_date is null or charge_date in (select charge_date from _days_to_compare))
    ) as c
),

published as (
    select p.lineage_id, p.charge_date, hash(p) as h, hash(p, 'publish') as h2
    from (
        select * exclude (run_id) from ledger.cost_ledger
        where
            billing_period = $period
            and ($every_day or charge_date is null or charge_date in (select charge_date from _days_to_compare))
    ) as p
),

final as (
    select
        coalesce(c.lineage_id, p.lineage_id) as lineage_id,
        coalesce(c.charge_date, p.charge_date) as charge_date
    from candidate as c
    full outer join published as p
        on c.lineage_id = p.lineage_id
    where c.h is distinct from p.h or c.h2 is distinct from p.h2
)

select * from final
