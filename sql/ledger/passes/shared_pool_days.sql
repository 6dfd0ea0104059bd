-- The shared-pool rows to split of the pools weighed by day (_shared_rows by_day) spread over the
-- days they cover (billing_days.sql on shared_rows_as_parts.sql, written in by the code:
-- pipeline.warehouse.fill), each day with its pool and weight day (its charge day).
-- Only the days to split again are kept: every day of a row of a new file version ($new), the
-- changed weight days (_shared_changed) of the others. shared_pool_parts.sql splits each day.

with days as (
    select
        d.charge_date,
        d.billing_period,
        d.category,
        d.subcategory,
        d.source_amount,
        d.source_effective_amount,
        d.source_currency,
        d.quantity,
        d.quantity_unit,
        d.provider,
        d.source_ref,
        r.pool,
        r.load_id in (select unnest($new::varchar[])) as is_new,
        d.charge_date as weight_day
    from ($days) as d
    inner join _shared_rows as r on d.source_ref = r.source_ref
),

final as (
    select
        d.charge_date,
        d.billing_period,
        d.category,
        d.subcategory,
        d.source_amount,
        d.source_effective_amount,
        d.source_currency,
        d.quantity,
        d.quantity_unit,
        d.provider,
        d.source_ref,
        d.pool,
        d.weight_day
    from days as d
    where
        d.is_new
        or exists (
            select 1 from _shared_changed as c
            where c.pool = d.pool and (c.weight_day is null or c.weight_day = d.charge_date)
        )
)

select * from final
