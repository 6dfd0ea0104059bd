create or replace view marts.idle_unallocated as
with ledger as (
    select * from ledger.cost_ledger
    where model_id in ('__idle__', '__unallocated__', '__shared__')
),

final as (
    select
        billing_period,
        model_id as bucket,
        coalesce(unallocated_reason, '') as reason,
        category,
        subcategory,
        provider,
        currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from ledger
    group by billing_period, bucket, reason, category, subcategory, provider, currency
)

select * from final;
comment on view marts.idle_unallocated is 'One row per billing period, bucket (__idle__, __unallocated__, __shared__), reason, category, subcategory and provider: money no model carries.';
comment on column marts.idle_unallocated.billing_period is 'Billing period YYYY-MM.';
comment on column marts.idle_unallocated.bucket is '__idle__, __unallocated__ or __shared__.';
comment on column marts.idle_unallocated.reason is 'unallocated_reason, empty for idle and shared.';
comment on column marts.idle_unallocated.category is 'Category.';
comment on column marts.idle_unallocated.subcategory is 'Subcategory.';
comment on column marts.idle_unallocated.provider is 'Provider or vendor.';
comment on column marts.idle_unallocated.currency is 'Reporting currency.';
comment on column marts.idle_unallocated.billed_cost is 'Billed cost, exact.';
comment on column marts.idle_unallocated.effective_cost is 'Effective cost, exact.';
