-- The billing loads whose keys kept in staging.billing_keys are not those of their rows in
-- staging.billing, counted again (staging.billing_key_counts): a key kept but no longer staged,
-- a key staged but not kept, or a key's rows counted otherwise. Empty when the writer kept them
-- with the rows (pipeline/ingest/restate.py); `costledger check` names each load it finds.
with differing as (
    select distinct coalesce(k.load_id, c.load_id) as load_id
    from staging.billing_keys as k
    full outer join staging.billing_key_counts as c
        on
        k.load_id = c.load_id and k.ProviderName = c.ProviderName
        and k.BillingAccountId is not distinct from c.BillingAccountId
        and k.x_BillingPeriod = c.x_BillingPeriod
    where k.billing_rows is distinct from c.billing_rows
),

final as (
    select d.load_id, coalesce(l.path, d.load_id) as path
    from differing as d
    left join meta.loads as l on d.load_id = l.load_id
)

select * from final order by path
