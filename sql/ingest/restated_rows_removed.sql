-- Remove from staging.billing the rows of the earlier loads $earlier with a key in _restated_keys.
delete from staging.billing as b
using _restated_keys as k
where
    b.ProviderName = k.ProviderName and b.BillingAccountId is not distinct from k.BillingAccountId
    and b.x_BillingPeriod = k.x_BillingPeriod and list_contains($earlier, b.load_id)
