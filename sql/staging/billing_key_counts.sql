-- The (provider, billing account, billing period) keys of each billing file version's staged rows,
-- counted from staging.billing itself: what staging.billing_keys keeps (the writer fills it from
-- here, one load at a time; `costledger check` compares the two).
create or replace view staging.billing_key_counts as
select
    load_id,
    ProviderName,
    BillingAccountId,
    x_BillingPeriod,
    count(*) as billing_rows
from staging.billing
group by all;
comment on view staging.billing_key_counts is 'One row per billing file version and (provider, billing account, billing period) key of its rows in staging.billing, counted from the rows: what staging.billing_keys keeps.';
