-- staging.billing of the active billing loads (one billing period, or all when $month is null),
-- with each row's source file, in export order.
with active_loads as (
    select load_id, path
    from meta.loads
    where source = 'billing' and status = 'loaded'
),

billing as (
    select b.*, l.path as x_SourceFile
    from staging.billing as b
    inner join active_loads as l on b.load_id = l.load_id
    where $month is null or b.x_BillingPeriod = $month
),

final as (
    select *
    from billing
    order by x_BillingPeriod, x_SourceFile, row_number
)

select * from final
