-- One row per billing period, provider, billing account, invoice (null = the bill is not final)
-- and currency: the bill's own total (staging.billing, per file in marts.billing_load_totals), the
-- ledger's billing rows traced back to those charges (source_ref = load_id:row_number; per day in
-- marts.invoice_ledger_days), and the invoices file's total where one was delivered. Every difference must be exactly 0; a key on one side only shows as a difference.
create or replace view marts.invoice_reconciliation as
with charges as (
    -- the active source charges under the key they are reconciled under, per file version: the
    -- billing_load_totals mart, which a validation keeps per file
    select * from marts.billing_load_totals
),

source_totals as (
    select
        billing_period,
        provider,
        billing_account_id,
        invoice_id,
        currency,
        sum(charges)::bigint as source_rows,
        sum(billed) as source_billed,
        sum(effective) as source_effective
    from charges
    group by billing_period, provider, billing_account_id, invoice_id, currency
),

ledger_totals as (
    -- the ledger's billing rows under the key of the charge they came from: the invoice_ledger_days
    -- mart, whose rows are per day, added up
    select
        billing_period,
        provider,
        billing_account_id,
        invoice_id,
        currency,
        sum(ledger_rows)::bigint as ledger_rows,
        sum(ledger_billed) as ledger_billed,
        sum(ledger_effective) as ledger_effective
    from marts.invoice_ledger_days
    group by billing_period, provider, billing_account_id, invoice_id, currency
),

invoice_providers as (
    -- the provider of each (account, invoice id), for invoices file rows that do not name one
    select distinct billing_account_id, invoice_id, provider
    from charges
    where invoice_id is not null
),

invoice_totals as (
    select
        i.billing_period,
        coalesce(i.provider, p.provider) as provider,
        i.billing_account_id,
        i.invoice_id,
        i.currency,
        sum(i.total) as invoice_total
    from staging.invoices as i
    left join invoice_providers as p
        on p.billing_account_id = i.billing_account_id and p.invoice_id = i.invoice_id and i.provider is null
    group by i.billing_period, coalesce(i.provider, p.provider), i.billing_account_id, i.invoice_id, i.currency
),

source_and_ledger as (
    select
        coalesce(s.billing_period, l.billing_period) as billing_period,
        coalesce(s.provider, l.provider) as provider,
        coalesce(s.billing_account_id, l.billing_account_id) as billing_account_id,
        coalesce(s.invoice_id, l.invoice_id) as invoice_id,
        coalesce(s.currency, l.currency) as currency,
        coalesce(s.source_rows, 0) as source_rows,
        coalesce(s.source_billed, 0) as source_billed,
        coalesce(l.ledger_rows, 0) as ledger_rows,
        coalesce(l.ledger_billed, 0) as ledger_billed,
        coalesce(s.source_effective, 0) as source_effective,
        coalesce(l.ledger_effective, 0) as ledger_effective
    from source_totals as s
    full outer join ledger_totals as l
        on l.billing_period = s.billing_period
        and l.provider = s.provider
        and l.billing_account_id is not distinct from s.billing_account_id
        and l.invoice_id is not distinct from s.invoice_id
        and l.currency = s.currency
),

final as (
    select
        coalesce(b.billing_period, i.billing_period) as billing_period,
        coalesce(b.provider, i.provider) as provider,
        coalesce(b.billing_account_id, i.billing_account_id) as billing_account_id,
        coalesce(b.invoice_id, i.invoice_id) as invoice_id,
        coalesce(b.currency, i.currency) as currency,
        coalesce(b.invoice_id, i.invoice_id) is not null as invoice_final,
        coalesce(b.source_rows, 0) as source_rows,
        coalesce(b.source_billed, 0) as source_billed,
        coalesce(b.ledger_rows, 0) as ledger_rows,
        coalesce(b.ledger_billed, 0) as ledger_billed,
        coalesce(b.ledger_billed, 0) - coalesce(b.source_billed, 0) as billed_difference,
        coalesce(b.source_effective, 0) as source_effective,
        coalesce(b.ledger_effective, 0) as ledger_effective,
        coalesce(b.ledger_effective, 0) - coalesce(b.source_effective, 0) as effective_difference,
        i.invoice_total,
        coalesce(b.source_billed, 0) - i.invoice_total as invoice_difference
    from source_and_ledger as b
    full outer join invoice_totals as i
        on i.billing_period = b.billing_period
        and i.provider is not distinct from b.provider
        and i.billing_account_id = b.billing_account_id
        and i.invoice_id = b.invoice_id
        and i.currency = b.currency
)

select * from final;
comment on view marts.invoice_reconciliation is 'One row per billing period, provider, billing account, invoice (null = not final) and currency: ledger billing totals against the bill''s totals and the invoices file''s total. Every difference must be exactly 0.';
comment on column marts.invoice_reconciliation.billing_period is 'Billing period YYYY-MM.';
comment on column marts.invoice_reconciliation.provider is 'ProviderName.';
comment on column marts.invoice_reconciliation.billing_account_id is 'BillingAccountId.';
comment on column marts.invoice_reconciliation.invoice_id is 'InvoiceId; null while the provider has not issued the invoice (the bill is not final).';
comment on column marts.invoice_reconciliation.currency is 'Billing currency.';
comment on column marts.invoice_reconciliation.invoice_final is 'True when the charges carry an invoice id.';
comment on column marts.invoice_reconciliation.source_rows is 'Charges in staging.billing under this key.';
comment on column marts.invoice_reconciliation.source_billed is 'Sum of BilledCost of those charges.';
comment on column marts.invoice_reconciliation.ledger_rows is 'Ledger billing rows that came from those charges (0: none, the charges are missing from the ledger).';
comment on column marts.invoice_reconciliation.ledger_billed is 'Sum of source_amount of the ledger rows that came from those charges.';
comment on column marts.invoice_reconciliation.billed_difference is 'ledger_billed - source_billed: must be 0.';
comment on column marts.invoice_reconciliation.source_effective is 'Sum of EffectiveCost of those charges.';
comment on column marts.invoice_reconciliation.ledger_effective is 'Sum of source_effective_amount of those ledger rows.';
comment on column marts.invoice_reconciliation.effective_difference is 'ledger_effective - source_effective: must be 0.';
comment on column marts.invoice_reconciliation.invoice_total is 'Total of the invoice in the invoices file (inbox/charges/); null when none was delivered.';
comment on column marts.invoice_reconciliation.invoice_difference is 'source_billed - invoice_total: must be 0 (null when no invoices file names the invoice).';
