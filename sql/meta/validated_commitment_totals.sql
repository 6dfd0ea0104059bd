create table if not exists meta.validated_commitment_totals (
    billing_period      varchar not null,
    load_id             varchar not null,
    provider            varchar not null,
    billing_account_id  varchar,
    currency            varchar not null,
    service_category    varchar not null,
    commitment_id       varchar,
    commitment_type     varchar,
    kind                varchar,
    charges             bigint not null,
    billed              decimal(38, 18) not null,
    effective           decimal(38, 18) not null,
    largest_effective   decimal(38, 18) not null,
    list_cost           decimal(38, 18) not null,
    contracted_cost     decimal(38, 18) not null
);
comment on table meta.validated_commitment_totals is 'The marts.commitment_load_totals rows of a billing period as its last successful validation added them up: per file, the partial sums of the commitments mart. The next validation takes a file''s rows from here when the file still has as many staged rows of the period (meta.validated_billing_loads; staged rows are never changed in place), and adds up the others again.';
comment on column meta.validated_commitment_totals.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.validated_commitment_totals.load_id is 'The file version (meta.loads.load_id).';
comment on column meta.validated_commitment_totals.provider is 'ProviderName.';
comment on column meta.validated_commitment_totals.billing_account_id is 'BillingAccountId.';
comment on column meta.validated_commitment_totals.currency is 'Billing currency.';
comment on column meta.validated_commitment_totals.service_category is 'ServiceCategory ('''' when not given).';
comment on column meta.validated_commitment_totals.commitment_id is 'CommitmentDiscountId (null: none).';
comment on column meta.validated_commitment_totals.commitment_type is 'CommitmentDiscountType.';
comment on column meta.validated_commitment_totals.kind is 'purchase, unused, used, on_demand, or null (any other charge).';
comment on column meta.validated_commitment_totals.charges is 'Staged charges under this key.';
comment on column meta.validated_commitment_totals.billed is 'Sum of their BilledCost.';
comment on column meta.validated_commitment_totals.effective is 'Sum of their EffectiveCost.';
comment on column meta.validated_commitment_totals.largest_effective is 'Their largest EffectiveCost.';
comment on column meta.validated_commitment_totals.list_cost is 'Sum of their on-demand equivalent cost.';
comment on column meta.validated_commitment_totals.contracted_cost is 'Sum of their contracted-basis cost.';
