-- One row per billing period, file version (load_id), provider, billing account, billing currency,
-- service category, commitment (null: none), commitment type and kind of charge of staging.billing:
-- the partial sums marts.commitments adds up. kind: purchase (a commitment's purchase row), unused
-- (CommitmentDiscountStatus Unused), used (Usage it covered), on_demand (Usage no commitment
-- covered), null (any other charge). On-demand equivalents: ListCost, else ContractedCost, else
-- what the row cost, and likewise ContractedCost first for the contracted basis. Sums add up across
-- files, so a validation keeps these rows per file (staged rows are never changed in place) and
-- adds up again only the files new or changed since the period last passed.
create or replace view marts.commitment_load_totals as
with charges as (
    select
        x_BillingPeriod as billing_period,
        load_id,
        ProviderName as provider,
        BillingAccountId as billing_account_id,
        BillingCurrency as currency,
        coalesce(ServiceCategory, '') as service_category,
        CommitmentDiscountId as commitment_id,
        CommitmentDiscountType as commitment_type,
        case
            when CommitmentDiscountId is not null and ChargeCategory = 'Purchase' then 'purchase'
            when CommitmentDiscountId is not null and CommitmentDiscountStatus = 'Unused' then 'unused'
            when CommitmentDiscountId is not null and ChargeCategory = 'Usage' then 'used'
            when ChargeCategory = 'Usage' then 'on_demand'
        end as kind,
        BilledCost as billed,
        EffectiveCost as effective,
        coalesce(ListCost, ContractedCost, greatest(BilledCost, EffectiveCost)) as list_cost,
        coalesce(ContractedCost, ListCost, greatest(BilledCost, EffectiveCost)) as contracted_cost
    from staging.billing
),

final as (
    select
        billing_period,
        load_id,
        provider,
        billing_account_id,
        currency,
        service_category,
        commitment_id,
        commitment_type,
        kind,
        count(*) as charges,
        sum(billed) as billed,
        sum(effective) as effective,
        max(effective) as largest_effective,
        sum(list_cost) as list_cost,
        sum(contracted_cost) as contracted_cost
    from charges
    group by
        billing_period, load_id, provider, billing_account_id, currency, service_category, commitment_id,
        commitment_type, kind
)

select * from final;
comment on view marts.commitment_load_totals is 'One row per billing period, file version, provider, billing account, currency, service category, commitment (null: none), commitment type and kind of charge (purchase, unused, used, on_demand; null: any other) of the staged bill: the partial sums marts.commitments adds up. Money exact in the billing currency.';
comment on column marts.commitment_load_totals.billing_period is 'Billing period YYYY-MM.';
comment on column marts.commitment_load_totals.load_id is 'The file version (meta.loads.load_id).';
comment on column marts.commitment_load_totals.provider is 'ProviderName.';
comment on column marts.commitment_load_totals.billing_account_id is 'BillingAccountId.';
comment on column marts.commitment_load_totals.currency is 'Billing currency.';
comment on column marts.commitment_load_totals.service_category is 'ServiceCategory ('''' when not given).';
comment on column marts.commitment_load_totals.commitment_id is 'CommitmentDiscountId; null for a charge no commitment relates to.';
comment on column marts.commitment_load_totals.commitment_type is 'CommitmentDiscountType as the provider labels it.';
comment on column marts.commitment_load_totals.kind is 'purchase, unused, used (usage a commitment covered), on_demand (usage none covered), or null (any other charge).';
comment on column marts.commitment_load_totals.charges is 'Charges (rows) in staging.billing under this key.';
comment on column marts.commitment_load_totals.billed is 'Sum of their BilledCost, exact.';
comment on column marts.commitment_load_totals.effective is 'Sum of their EffectiveCost, exact.';
comment on column marts.commitment_load_totals.largest_effective is 'The largest EffectiveCost of one of them (marts.commitments takes a commitment''s service category from its largest used charge).';
comment on column marts.commitment_load_totals.list_cost is 'Sum of their on-demand equivalent: ListCost, else ContractedCost, else the larger of BilledCost and EffectiveCost; exact.';
comment on column marts.commitment_load_totals.contracted_cost is 'Sum of the same at contracted prices: ContractedCost, else ListCost, else the larger of BilledCost and EffectiveCost; exact.';
