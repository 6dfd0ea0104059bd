-- The shared-pool rows to split of the pools weighed by day (_shared_rows by_day) as billing parts of no model yet, for billing_days.sql
-- to spread over the days they cover before each day is split (shared_pool_days.sql).

select
    billing_period,
    cast(null as varchar) as model_id,
    category,
    subcategory,
    source_amount,
    source_effective_amount,
    source_currency,
    quantity,
    quantity_unit,
    'billing' as source,
    provider,
    'shared_pool' as allocation_method,
    1::decimal(38, 18) as allocation_share,
    cast(null as varchar) as unallocated_reason,
    source_ref,
    '' as split_key,
    ChargePeriodStart,
    ChargePeriodEnd
from _shared_rows
where by_day
