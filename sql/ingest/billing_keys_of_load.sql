-- Keep in staging.billing_keys the (provider, billing account, billing period) keys of billing
-- load $load's rows in staging.billing (the caller first forgets the ones kept before).
insert into staging.billing_keys
select
    load_id,
    ProviderName,
    BillingAccountId,
    x_BillingPeriod,
    count(*) as billing_rows
from staging.billing
where load_id = $load
group by all
