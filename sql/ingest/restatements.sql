-- One meta.restatements row per (key, currency) that billing load $new restates at $now: the old
-- totals (_old_totals) beside the new (_new_totals) and the change; a currency only one side
-- has counts as 0 on the other.
insert into meta.restatements
with old (provider, account, period, currency, loads, old_rows, old_billed, old_effective) as (
    select * from _old_totals
),

all_loads as (select list(distinct u.l) as loads from old, unnest(old.loads) as u (l)),

final as (
    select
        $now::timestamp as restated_at,
        $new as new_load_id,
        coalesce(old.loads, (select loads from all_loads)) as old_load_ids,
        coalesce(old.provider, n.ProviderName) as provider,
        coalesce(old.account, n.BillingAccountId) as billing_account_id,
        coalesce(old.period, n.x_BillingPeriod) as billing_period,
        coalesce(old.currency, n.BillingCurrency) as currency,
        coalesce(old.old_rows, 0) as old_rows,
        coalesce(n.new_rows, 0) as new_rows,
        coalesce(old.old_billed, 0) as old_billed,
        coalesce(n.new_billed, 0) as new_billed,
        coalesce(n.new_billed, 0) - coalesce(old.old_billed, 0) as billed_change,
        coalesce(old.old_effective, 0) as old_effective,
        coalesce(n.new_effective, 0) as new_effective,
        coalesce(n.new_effective, 0) - coalesce(old.old_effective, 0) as effective_change
    from old
    full outer join _new_totals as n
        on n.ProviderName = old.provider and n.BillingAccountId is not distinct from old.account
        and n.x_BillingPeriod = old.period and n.BillingCurrency = old.currency
    where old.period is not null or exists (
        select 1 from old as o
        where
            o.provider = n.ProviderName and o.account is not distinct from n.BillingAccountId
            and o.period = n.x_BillingPeriod
    )
)

select * from final
