-- The period's ($period) billing file versions a build must act on, under the recipe $recipe:
-- `gone`, versions routed before that are no longer staged or lost rows since (a later export
-- restated some of their accounts); `new`, staged versions to route: not routed yet, or shrunk.
-- When the period's kept rows are of another recipe ($fresh), every staged version is new.

with staged as (
    select load_id, count(*) as staged_rows
    from staging.billing
    where x_BillingPeriod = $period
    group by load_id
),

allocated as (
    select a.load_id, a.rows_in = coalesce(s.staged_rows, 0) as intact
    from ledger.billing_allocated as a
    left join staged as s on a.load_id = s.load_id
    where a.recipe = $recipe and a.billing_period = $period and not $fresh
),

final as (
    select load_id, 'gone' as change
    from allocated
    where not intact
    union all
    select load_id, 'new' as change
    from staged
    where load_id not in (select load_id from allocated where intact)
)

select * from final
order by change, load_id
