-- The other billing loads holding rows with a (provider, billing account, billing period) key of
-- billing load $new, each with its path: the loads $new may restate or be a part beside.
select b.load_id, any_value(l.path) as path
from staging.billing as b
inner join meta.loads as l on l.load_id = b.load_id
semi join (
    select distinct ProviderName, BillingAccountId, x_BillingPeriod from staging.billing
    where load_id = $new
) as k
    on b.ProviderName = k.ProviderName and b.BillingAccountId is not distinct from k.BillingAccountId
    and b.x_BillingPeriod = k.x_BillingPeriod
where b.load_id <> $new
group by b.load_id
order by b.load_id
