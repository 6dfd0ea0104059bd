-- One row per provider, billing account, invoice (null = not final) and currency of the period,
-- on any side: the bill (staging.billing), the candidate's billing rows traced to their charges
-- (source_ref), and the invoices file (staging.invoices), compared exactly (issue: reconciliation
-- per invoice). Null-safe keys: a bill that is not final still reconciles, as one null invoice.
with charges as (
    select
        load_id || ':' || row_number as source_ref,
        ProviderName as provider,
        BillingAccountId as billing_account_id,
        InvoiceId as invoice_id,
        BillingCurrency as currency,
        BilledCost as billed,
        EffectiveCost as effective
    from staging.billing
    where x_BillingPeriod = $period
),

source_totals as (
    select provider, billing_account_id, invoice_id, currency, sum(billed) as billed, sum(effective) as effective
    from charges
    group by provider, billing_account_id, invoice_id, currency
),

candidate_totals as (
    select
        coalesce(ch.provider, c.provider) as provider,
        ch.billing_account_id,
        ch.invoice_id,
        c.source_currency as currency,
        sum(c.source_amount) as billed,
        sum(c.source_effective_amount) as effective
    from ledger.cost_ledger_candidate as c
    left join charges as ch
        on ch.source_ref = c.source_ref
    where c.billing_period = $period and c.source = 'billing'
    group by coalesce(ch.provider, c.provider), ch.billing_account_id, ch.invoice_id, c.source_currency
),

invoice_totals as (
    select
        coalesce(i.provider, p.provider) as provider,
        i.billing_account_id,
        i.invoice_id,
        i.currency,
        sum(i.total) as total
    from staging.invoices as i
    left join (select distinct provider, billing_account_id, invoice_id from charges) as p
        on p.billing_account_id = i.billing_account_id and p.invoice_id = i.invoice_id and i.provider is null
    where i.billing_period = $period
    group by coalesce(i.provider, p.provider), i.billing_account_id, i.invoice_id, i.currency
),

bill_and_candidate as (
    select
        coalesce(s.provider, c.provider) as provider,
        coalesce(s.billing_account_id, c.billing_account_id) as billing_account_id,
        coalesce(s.invoice_id, c.invoice_id) as invoice_id,
        coalesce(s.currency, c.currency) as currency,
        s.billed as source_billed,
        c.billed as candidate_billed,
        s.effective as source_effective,
        c.effective as candidate_effective
    from source_totals as s
    full outer join candidate_totals as c
        on c.provider = s.provider
        and c.billing_account_id is not distinct from s.billing_account_id
        and c.invoice_id is not distinct from s.invoice_id
        and c.currency = s.currency
),

compared as (
    select
        coalesce(b.provider, i.provider) as provider,
        coalesce(b.billing_account_id, i.billing_account_id) as billing_account_id,
        coalesce(b.invoice_id, i.invoice_id) as invoice_id,
        coalesce(b.currency, i.currency) as currency,
        b.source_billed,
        b.candidate_billed,
        b.source_effective,
        b.candidate_effective,
        i.total as invoice_total,
        coalesce(b.candidate_billed, 0) - coalesce(b.source_billed, 0) as billed_difference,
        coalesce(b.candidate_effective, 0) - coalesce(b.source_effective, 0) as effective_difference,
        coalesce(b.source_billed, 0) - i.total as invoice_difference
    from bill_and_candidate as b
    full outer join invoice_totals as i
        on i.provider is not distinct from b.provider
        and i.billing_account_id = b.billing_account_id
        and i.invoice_id = b.invoice_id
        and i.currency = b.currency
),

final as (
    select
        $period as billing_period,
        provider,
        coalesce(billing_account_id, 'none') as billing_account_id,
        coalesce(invoice_id, 'not final') as invoice_id,
        currency,
        coalesce(cast(source_billed as varchar), 'missing') as source_billed,
        coalesce(cast(candidate_billed as varchar), 'missing') as candidate_billed,
        cast(billed_difference as varchar) as billed_difference,
        billed_difference = 0 as billed_exact,
        cast(effective_difference as varchar) as effective_difference,
        effective_difference = 0 as effective_exact,
        coalesce(cast(invoice_total as varchar), 'none') as invoice_total,
        coalesce(cast(invoice_difference as varchar), 'none') as invoice_difference,
        coalesce(invoice_difference = 0, true) as invoice_exact
    from compared
)

select * from final
order by provider, billing_account_id, invoice_id, currency
