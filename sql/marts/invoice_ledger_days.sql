-- One row per billing period, charge day, provider, billing account, invoice (null = the bill is
-- not final) and currency: the ledger's billing rows traced back to the charge they came from
-- (source_ref = load_id:row_number in staging.billing), counted and summed under their own
-- provider and currency (their charge's) and their charge's account and invoice: a row under
-- another provider or currency than its charge's shows as a difference in the reconciliation.
-- marts.invoice_reconciliation adds these up per period, and the billing conservation check per
-- provider and currency; per day, a validation keeps them and traces again only the days whose
-- rows changed. A row whose charge is no longer staged has no account or invoice.
create or replace view marts.invoice_ledger_days as
with charges as (
    select
        load_id,
        row_number,
        BillingAccountId as billing_account_id,
        InvoiceId as invoice_id
    from staging.billing
),

final as (
    select
        l.billing_period,
        l.charge_date,
        l.provider,
        c.billing_account_id,
        c.invoice_id,
        l.source_currency as currency,
        count(*) as ledger_rows,
        sum(l.source_amount) as ledger_billed,
        sum(l.source_effective_amount) as ledger_effective
    from ledger.cost_ledger as l
    -- joined on the parts of source_ref (a load id holds no ':'), not on a key built for every
    -- staged charge: the charges of the files behind the rows read are the only ones looked up
    left join charges as c
        on
        c.load_id = split_part(l.source_ref, ':', 1)
        and c.row_number = try_cast(split_part(l.source_ref, ':', 2) as bigint)
    where l.source = 'billing'
    group by
        l.billing_period, l.charge_date, l.provider, c.billing_account_id, c.invoice_id,
        l.source_currency
)

select * from final;
comment on view marts.invoice_ledger_days is 'One row per billing period, charge day, provider, billing account, invoice (null = not final) and currency: the ledger''s billing rows traced to the charges they came from. marts.invoice_reconciliation sums them per period.';
comment on column marts.invoice_ledger_days.billing_period is 'Billing period YYYY-MM.';
comment on column marts.invoice_ledger_days.charge_date is 'The ledger rows'' charge date.';
comment on column marts.invoice_ledger_days.provider is 'The ledger rows'' provider (the ProviderName of their charges).';
comment on column marts.invoice_ledger_days.billing_account_id is 'BillingAccountId of the charge (null: the charge is no longer staged).';
comment on column marts.invoice_ledger_days.invoice_id is 'InvoiceId of the charge; null while the bill is not final, or when the charge is no longer staged.';
comment on column marts.invoice_ledger_days.currency is 'The charge''s billing currency (the ledger rows'' source_currency).';
comment on column marts.invoice_ledger_days.ledger_rows is 'Ledger billing rows of that day traced to those charges.';
comment on column marts.invoice_ledger_days.ledger_billed is 'Sum of their source_amount.';
comment on column marts.invoice_ledger_days.ledger_effective is 'Sum of their source_effective_amount.';
