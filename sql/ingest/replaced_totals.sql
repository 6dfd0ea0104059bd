-- The rows of the earlier loads $earlier with a key in _restated_keys, per key and currency: the
-- loads holding them, their count and totals (what the restatement replaces).
create or replace temp table _old_totals as
select
    b.ProviderName,
    b.BillingAccountId,
    b.x_BillingPeriod,
    b.BillingCurrency,
    list(distinct b.load_id order by b.load_id) as loads,
    count(*) as old_rows,
    sum(b.BilledCost) as old_billed,
    sum(b.EffectiveCost) as old_effective
from staging.billing as b
inner join _restated_keys as k
    on b.ProviderName = k.ProviderName and b.BillingAccountId is not distinct from k.BillingAccountId
    and b.x_BillingPeriod = k.x_BillingPeriod
where list_contains($earlier, b.load_id)
group by all
