-- One row per provider and billing currency of the period, on either side: the source bill
-- (staging.billing, as the billing_load_totals mart adds it up per file) against the candidate's
-- billing rows (as the invoice_ledger_days mart adds them up per day, every row under its own
-- provider and currency), compared exactly. A validation keeps both marts' rows: it adds up again
-- only the files and days that changed.
with source_totals as (
    select
        provider,
        currency,
        sum(billed) as billed,
        sum(effective) as effective
    from ($mart_billing_load_totals)
    where billing_period = $period
    group by provider, currency
),

candidate_totals as (
    select
        provider,
        currency,
        sum(ledger_billed) as billed,
        sum(ledger_effective) as effective
    from ($mart_invoice_ledger_days)
    where billing_period = $period
    group by provider, currency
),

compared as (
    select
        coalesce(s.provider, c.provider) as provider,
        coalesce(s.currency, c.currency) as currency,
        s.billed as source_billed,
        c.billed as candidate_billed,
        s.effective as source_effective,
        c.effective as candidate_effective,
        coalesce(c.billed, 0) - coalesce(s.billed, 0) as billed_difference,
        coalesce(c.effective, 0) - coalesce(s.effective, 0) as effective_difference
    from source_totals as s
    full outer join candidate_totals as c
        on s.provider = c.provider and s.currency = c.currency
),

final as (
    select
        $period as billing_period,
        provider,
        currency,
        coalesce(cast(source_billed as varchar), 'missing') as source_billed,
        coalesce(cast(candidate_billed as varchar), 'missing') as candidate_billed,
        cast(billed_difference as varchar) as billed_difference,
        billed_difference = 0 as billed_exact,
        coalesce(cast(source_effective as varchar), 'missing') as source_effective,
        coalesce(cast(candidate_effective as varchar), 'missing') as candidate_effective,
        cast(effective_difference as varchar) as effective_difference,
        effective_difference = 0 as effective_exact
    from compared
)

select * from final
order by provider, currency
