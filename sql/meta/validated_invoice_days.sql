create table if not exists meta.validated_invoice_days (
    billing_period      varchar not null,
    charge_date         date,
    provider            varchar,
    billing_account_id  varchar,
    invoice_id          varchar,
    currency            varchar,
    ledger_rows         bigint not null,
    ledger_billed       decimal(38, 18),
    ledger_effective    decimal(38, 18)
);
comment on table meta.validated_invoice_days is 'The rows of marts.invoice_ledger_days for a billing period''s candidate as its last successful validation computed them. The next validation traces again only the days whose rows changed (meta.validated_days), and every day when a file''s staged billing rows went (meta.validated_billing_loads).';
comment on column meta.validated_invoice_days.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.validated_invoice_days.charge_date is 'The ledger rows'' charge date.';
comment on column meta.validated_invoice_days.provider is 'As in marts.invoice_ledger_days.';
comment on column meta.validated_invoice_days.billing_account_id is 'As in marts.invoice_ledger_days.';
comment on column meta.validated_invoice_days.invoice_id is 'As in marts.invoice_ledger_days.';
comment on column meta.validated_invoice_days.currency is 'As in marts.invoice_ledger_days.';
comment on column meta.validated_invoice_days.ledger_rows is 'As in marts.invoice_ledger_days.';
comment on column meta.validated_invoice_days.ledger_billed is 'As in marts.invoice_ledger_days.';
comment on column meta.validated_invoice_days.ledger_effective is 'As in marts.invoice_ledger_days.';
