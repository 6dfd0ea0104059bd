create table if not exists meta.restatements (
    restated_at          timestamp not null,
    new_load_id          varchar not null,
    old_load_ids         varchar[] not null,
    provider             varchar not null,
    billing_account_id   varchar,
    billing_period       varchar not null,
    currency             varchar not null,
    old_rows             bigint not null,
    new_rows             bigint not null,
    old_billed           decimal(38, 18) not null,
    new_billed           decimal(38, 18) not null,
    billed_change        decimal(38, 18) not null,
    old_effective        decimal(38, 18) not null,
    new_effective        decimal(38, 18) not null,
    effective_change     decimal(38, 18) not null
);
comment on table meta.restatements is 'One row per billing restatement, provider, billing account, billing period and currency: a later export of the same (provider, account, period) replaced the earlier rows; old and new totals and the change. The superseded rows stay in raw.source_rows.';
comment on column meta.restatements.restated_at is 'When the later export was loaded (UTC).';
comment on column meta.restatements.new_load_id is 'The file version that now holds the period (meta.loads.load_id).';
comment on column meta.restatements.old_load_ids is 'The file versions whose rows of this period it replaced.';
comment on column meta.restatements.provider is 'FOCUS ProviderName of the rows.';
comment on column meta.restatements.billing_account_id is 'FOCUS BillingAccountId of the rows (null when the export has none).';
comment on column meta.restatements.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.restatements.currency is 'Billing currency of the totals.';
comment on column meta.restatements.old_rows is 'Rows of the period before the restatement.';
comment on column meta.restatements.new_rows is 'Rows of the period in the later export.';
comment on column meta.restatements.old_billed is 'Billed total before, exact, in the billing currency.';
comment on column meta.restatements.new_billed is 'Billed total after.';
comment on column meta.restatements.billed_change is 'new_billed - old_billed.';
comment on column meta.restatements.old_effective is 'Effective total before.';
comment on column meta.restatements.new_effective is 'Effective total after.';
comment on column meta.restatements.effective_change is 'new_effective - old_effective.';
