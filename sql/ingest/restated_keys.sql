-- The (provider, billing account, billing period) keys of billing load $new: the keys it restates.
create or replace temp table _restated_keys as
select distinct ProviderName, BillingAccountId, x_BillingPeriod from staging.billing
where load_id = $new
