-- Forget the keys in _restated_keys of the earlier loads $earlier: their rows with those keys
-- are removed from staging.billing (restated_rows_removed.sql).
delete from staging.billing_keys as b
using _restated_keys as k
where
    b.ProviderName = k.ProviderName and b.BillingAccountId is not distinct from k.BillingAccountId
    and b.x_BillingPeriod = k.x_BillingPeriod and list_contains($earlier, b.load_id)
