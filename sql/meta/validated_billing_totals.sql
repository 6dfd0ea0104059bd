create table if not exists meta.validated_billing_totals (
    billing_period      varchar not null,
    load_id             varchar not null,
    provider            varchar not null,
    billing_account_id  varchar,
    invoice_id          varchar,
    currency            varchar not null,
    charges             bigint not null,
    billed              decimal(38, 18) not null,
    effective           decimal(38, 18) not null
);
comment on table meta.validated_billing_totals is 'The marts.billing_load_totals rows of a billing period as its last successful validation added them up: per file, the staged charges and their totals. The next validation takes a file''s rows from here when the file still has as many staged rows of the period (meta.validated_billing_loads; staged rows are never changed in place), and adds up the others again.';
comment on column meta.validated_billing_totals.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.validated_billing_totals.load_id is 'The file version (meta.loads.load_id).';
comment on column meta.validated_billing_totals.provider is 'ProviderName.';
comment on column meta.validated_billing_totals.billing_account_id is 'BillingAccountId.';
comment on column meta.validated_billing_totals.invoice_id is 'InvoiceId (null: the bill is not final).';
comment on column meta.validated_billing_totals.currency is 'Billing currency.';
comment on column meta.validated_billing_totals.charges is 'Staged charges under this key.';
comment on column meta.validated_billing_totals.billed is 'Sum of their BilledCost.';
comment on column meta.validated_billing_totals.effective is 'Sum of their EffectiveCost.';
