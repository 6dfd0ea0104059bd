-- The other billing loads holding rows with a (provider, billing account, billing period) key of
-- billing load $new: the loads $new may restate or be a part beside. Each with its path and the
-- rows of $new whose key it also holds (shared_keys: how much of $new it could hold again).
-- The keys come from staging.billing_keys, kept with the rows: not a read of every row of the period.
with new_keys as (
    select ProviderName, BillingAccountId, x_BillingPeriod, billing_rows as new_rows
    from staging.billing_keys
    where load_id = $new
),

-- the keys of the other loads, in the billing periods of $new only
other_keys as (
    select load_id, ProviderName, BillingAccountId, x_BillingPeriod
    from staging.billing_keys
    where load_id <> $new and x_BillingPeriod in (select k.x_BillingPeriod from new_keys as k)
),

final as (
    select o.load_id, any_value(l.path) as path, sum(k.new_rows) as shared_keys
    from other_keys as o
    inner join new_keys as k
        on o.ProviderName = k.ProviderName and o.BillingAccountId is not distinct from k.BillingAccountId
        and o.x_BillingPeriod = k.x_BillingPeriod
    inner join meta.loads as l on l.load_id = o.load_id
    group by o.load_id
)

select * from final order by load_id
