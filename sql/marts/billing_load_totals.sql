-- One row per billing period, file version (load_id), provider, billing account, invoice (null =
-- the bill is not final) and currency of staging.billing: how many charges, and their billed and
-- effective cost. marts.invoice_reconciliation adds these up per period; a validation keeps them
-- per file (staged rows are never changed in place) and adds up again only the files new or
-- changed since the period last passed.
create or replace view marts.billing_load_totals as
with final as (
    select
        x_BillingPeriod as billing_period,
        load_id,
        ProviderName as provider,
        BillingAccountId as billing_account_id,
        InvoiceId as invoice_id,
        BillingCurrency as currency,
        count(*) as charges,
        sum(BilledCost) as billed,
        sum(EffectiveCost) as effective
    from staging.billing
    group by x_BillingPeriod, load_id, ProviderName, BillingAccountId, InvoiceId, BillingCurrency
)

select * from final;
comment on view marts.billing_load_totals is 'One row per billing period, file version, provider, billing account, invoice (null = not final) and currency of the staged bill: its charges and their billed and effective cost (what invoice_reconciliation adds up).';
comment on column marts.billing_load_totals.billing_period is 'Billing period YYYY-MM.';
comment on column marts.billing_load_totals.load_id is 'The file version (meta.loads.load_id).';
comment on column marts.billing_load_totals.provider is 'ProviderName.';
comment on column marts.billing_load_totals.billing_account_id is 'BillingAccountId.';
comment on column marts.billing_load_totals.invoice_id is 'InvoiceId; null while the provider has not issued the invoice.';
comment on column marts.billing_load_totals.currency is 'Billing currency.';
comment on column marts.billing_load_totals.charges is 'Charges (rows) in staging.billing under this key.';
comment on column marts.billing_load_totals.billed is 'Sum of their BilledCost, exact.';
comment on column marts.billing_load_totals.effective is 'Sum of their EffectiveCost, exact.';
