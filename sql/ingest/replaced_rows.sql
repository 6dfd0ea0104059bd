-- The rows of earlier loads $earlier that billing load $new replaces (a key in _restated_keys),
-- of those earlier loads that keep rows of other keys: recorded as replaced at $now, so the
-- earlier load still balances.
insert into meta.replaced_rows
select b.load_id, b.row_number, $new, $now
from staging.billing as b
semi join _restated_keys as k
    on b.ProviderName = k.ProviderName and b.BillingAccountId is not distinct from k.BillingAccountId
    and b.x_BillingPeriod = k.x_BillingPeriod
where list_contains($earlier, b.load_id) and b.load_id in (
    select s.load_id from staging.billing as s
    anti join _restated_keys as r
        on s.ProviderName = r.ProviderName and s.BillingAccountId is not distinct from r.BillingAccountId
        and s.x_BillingPeriod = r.x_BillingPeriod
    where list_contains($earlier, s.load_id)
)
