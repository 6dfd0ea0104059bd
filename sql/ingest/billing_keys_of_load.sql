-- Keep in staging.billing_keys the (provider, billing account, billing period) keys of billing
-- load $load's rows in staging.billing (the caller first forgets the ones kept before).
insert into staging.billing_keys
select * from staging.billing_key_counts
where load_id = $load
