create table if not exists meta.validated_billing_loads (
    billing_period  varchar not null,
    load_id         varchar not null,
    staged_rows     bigint not null
);
comment on table meta.validated_billing_loads is 'One row per file with staged billing rows of a billing period, as its last successful validation saw it: how many. Staged rows are never changed in place, so a file with the same count holds the same charges; when a file has fewer (a restatement or a superseded version took rows away), the next validation traces every day''s ledger rows to their charges again (meta.validated_invoice_days).';
comment on column meta.validated_billing_loads.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.validated_billing_loads.load_id is 'The file version (meta.loads.load_id).';
comment on column meta.validated_billing_loads.staged_rows is 'Its rows of the period in staging.billing.';
