create table if not exists staging.invoices (
    load_id             varchar not null,
    row_number          bigint not null,
    invoice_id          varchar not null,
    billing_account_id  varchar not null,
    billing_period      varchar not null,
    currency            varchar not null,
    total               decimal(38, 18) not null,
    provider            varchar
);
comment on table staging.invoices is 'One row per cloud invoice total delivered in an invoices file (inbox/charges/, optional): what marts.invoice_reconciliation checks the billing rows against.';
comment on column staging.invoices.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.invoices.row_number is 'Row number in that file.';
comment on column staging.invoices.invoice_id is 'Invoice id, as the billing export''s InvoiceId.';
comment on column staging.invoices.billing_account_id is 'Billing account the invoice is for (BillingAccountId).';
comment on column staging.invoices.billing_period is 'Billing period YYYY-MM.';
comment on column staging.invoices.currency is 'ISO 4217 currency of the invoice (BillingCurrency).';
comment on column staging.invoices.total is 'Invoice total, exact: must equal the sum of BilledCost of the invoice''s billing rows.';
comment on column staging.invoices.provider is 'ProviderName; null = the provider of the billing rows with this account and invoice id.';
