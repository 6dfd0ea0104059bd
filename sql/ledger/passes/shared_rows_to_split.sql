-- The shared-pool rows to split (again), kept routed under the recipe $recipe in the period
-- $period: those of new billing file versions ($new), and those covering a weight day whose
-- weights changed (_shared_changed, shared_weights_changed.sql; a null day: every day).
-- by_day: the pool is proportional and weighed by day (its rows are spread over their days, then
-- each day split); else each row is split, then spread.

with final as (
    select
        r.*,
        r.load_id || ':' || r.row_number as source_ref,
        coalesce(p.policy = 'proportional' and p.weight_window = 'day', false) as by_day
    from ledger.billing_deferred as r
    left join meta.shared_pools as p on r.pool = p.name
    where
        r.recipe = $recipe
        and r.billing_period = $period
        and r.route = 'shared'
        and (
            r.load_id in (select unnest($new::varchar[]))
            or exists (
                select 1 from _shared_changed as c
                where
                    c.pool = r.pool
                    and (
                        c.weight_day is null
                        or c.weight_day between r.ChargePeriodStart::date and greatest(
                            r.ChargePeriodEnd - interval 1 microsecond, r.ChargePeriodStart
                        )::date
                    )
            )
        )
)

select * from final
