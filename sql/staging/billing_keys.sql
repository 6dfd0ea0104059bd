-- Kept beside staging.billing by the writer, in the transaction that changes its rows
-- (pipeline/ingest/restate.py). Made here, once, from the rows already staged, so a warehouse
-- older than this table starts with it whole.
create table if not exists staging.billing_keys as
select * from staging.billing_key_counts;
comment on table staging.billing_keys is 'One row per billing file version and (provider, billing account, billing period) key of its rows in staging.billing: what a new billing file asks to find the files it may restate or sit beside, without reading every row of the period.';
comment on column staging.billing_keys.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.billing_keys.ProviderName is 'FOCUS: provider name (staging.billing.ProviderName).';
comment on column staging.billing_keys.BillingAccountId is 'FOCUS: billing account id; null when the file has none.';
comment on column staging.billing_keys.x_BillingPeriod is 'Billing period, YYYY-MM.';
comment on column staging.billing_keys.billing_rows is 'The file version''s rows in staging.billing with this key.';
