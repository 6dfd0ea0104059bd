-- Billing load $new's rows and totals per key and currency, for meta.restatements.
create or replace temp table _new_totals as
select
    ProviderName,
    BillingAccountId,
    x_BillingPeriod,
    BillingCurrency,
    count(*) as new_rows,
    sum(BilledCost) as new_billed,
    sum(EffectiveCost) as new_effective
from staging.billing
where load_id = $new
group by all
