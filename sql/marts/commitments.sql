-- One row per billing period, commitment (savings plan, reservation, committed-use discount) and
-- billing currency, from the FOCUS commitment columns of staging.billing (added up per file in
-- marts.commitment_load_totals):
-- used_cost   EffectiveCost of the usage it covered (CommitmentDiscountStatus Used, or not given);
-- unused_cost EffectiveCost of its Unused rows plus the effective cost a purchase row still
--             carries (a recurring fee whose unused part the provider leaves on the fee, as AWS
--             does); utilisation = used / (used + unused).
-- Eligible usage: the Usage rows of the commitment's provider, billing account and service
-- category (FOCUS does not say which usage a commitment could cover; a reservation covers fewer
-- SKUs than that, so its coverage reads low). On-demand equivalents: ListCost, else
-- ContractedCost, else what the row cost (a covered row without either shows no saving), and
-- likewise ContractedCost first for the contracted basis.
-- coverage = covered list cost / eligible list cost; savings = covered list (or contracted) cost
-- - (used + unused); effective savings rate (ESR, of the eligible scope, every commitment in it
-- and its unused cost included) = 1 - eligible effective cost / eligible list (contracted) cost.
create or replace view marts.commitments as
with charges as (
    -- the bill's sums per file, commitment, kind and service category: the commitment_load_totals
    -- mart, which a validation keeps per file
    select * from marts.commitment_load_totals
),

per_commitment as (
    select
        billing_period,
        provider,
        billing_account_id,
        currency,
        commitment_id,
        min(commitment_type) as commitment_type,
        -- its scope: the service category of the largest usage charge it covered (of charges as
        -- large, the first category by name: the same on every run), else of its purchase
        coalesce(
            first(service_category order by largest_effective desc, service_category) filter (where kind = 'used'),
            min(service_category) filter (where kind in ('purchase', 'unused'))
        ) as service_category,
        coalesce(sum(billed) filter (where kind = 'purchase'), 0) as purchase_billed,
        coalesce(sum(effective) filter (where kind = 'used'), 0) as used_cost,
        coalesce(sum(effective) filter (where kind in ('unused', 'purchase')), 0) as unused_cost,
        coalesce(sum(list_cost) filter (where kind = 'used'), 0) as covered_list_cost,
        coalesce(sum(contracted_cost) filter (where kind = 'used'), 0) as covered_contracted_cost
    from charges
    where commitment_id is not null and kind is not null
    group by billing_period, provider, billing_account_id, currency, commitment_id
),

scopes as (
    select
        billing_period,
        provider,
        billing_account_id,
        currency,
        service_category,
        sum(list_cost) filter (where kind in ('used', 'on_demand')) as eligible_list_cost,
        sum(contracted_cost) filter (where kind in ('used', 'on_demand')) as eligible_contracted_cost,
        sum(effective) filter (where kind in ('used', 'on_demand')) as eligible_usage_effective
    from charges
    group by billing_period, provider, billing_account_id, currency, service_category
),

scope_unused as (
    select billing_period, provider, billing_account_id, currency, service_category, sum(unused_cost) as unused_cost
    from per_commitment
    group by billing_period, provider, billing_account_id, currency, service_category
),

final as (
    select
        c.billing_period,
        c.provider,
        c.billing_account_id,
        c.commitment_id,
        c.commitment_type,
        c.service_category,
        c.currency,
        c.purchase_billed,
        c.used_cost,
        c.unused_cost,
        c.used_cost + c.unused_cost as commitment_cost,
        c.used_cost / nullif(c.used_cost + c.unused_cost, 0) as utilisation,
        c.covered_list_cost,
        c.covered_contracted_cost,
        coalesce(s.eligible_list_cost, 0) as eligible_list_cost,
        coalesce(s.eligible_contracted_cost, 0) as eligible_contracted_cost,
        c.covered_list_cost / nullif(s.eligible_list_cost, 0) as coverage,
        c.covered_list_cost - (c.used_cost + c.unused_cost) as savings_vs_list,
        c.covered_contracted_cost - (c.used_cost + c.unused_cost) as savings_vs_contracted,
        (c.covered_list_cost - (c.used_cost + c.unused_cost)) / nullif(c.covered_list_cost, 0) as savings_rate_vs_list,
        1 - (coalesce(s.eligible_usage_effective, 0) + u.unused_cost) / nullif(s.eligible_list_cost, 0)
            as effective_savings_rate_vs_list,
        1 - (coalesce(s.eligible_usage_effective, 0) + u.unused_cost) / nullif(s.eligible_contracted_cost, 0)
            as effective_savings_rate_vs_contracted
    from per_commitment as c
    left join scopes as s
        on s.billing_period = c.billing_period and s.provider = c.provider
        and s.billing_account_id is not distinct from c.billing_account_id
        and s.currency = c.currency and s.service_category = c.service_category
    left join scope_unused as u
        on u.billing_period = c.billing_period and u.provider = c.provider
        and u.billing_account_id is not distinct from c.billing_account_id
        and u.currency = c.currency and u.service_category = c.service_category
)

select * from final;
comment on view marts.commitments is 'One row per billing period, commitment and billing currency: used and unused commitment cost, utilisation, coverage of eligible usage (same provider, billing account and service category), savings and the effective savings rate against list and contracted cost, from the FOCUS commitment columns. Money exact in the billing currency; rates are ratios (DOUBLE) for reading.';
comment on column marts.commitments.billing_period is 'Billing period YYYY-MM.';
comment on column marts.commitments.provider is 'ProviderName.';
comment on column marts.commitments.billing_account_id is 'BillingAccountId.';
comment on column marts.commitments.commitment_id is 'CommitmentDiscountId: the savings plan, reservation or committed-use discount.';
comment on column marts.commitments.commitment_type is 'CommitmentDiscountType as the provider labels it.';
comment on column marts.commitments.service_category is 'ServiceCategory of the usage it covered (else of its purchase): the scope of eligible usage.';
comment on column marts.commitments.currency is 'Billing currency.';
comment on column marts.commitments.purchase_billed is 'BilledCost of its purchase rows in the period (the fee invoiced).';
comment on column marts.commitments.used_cost is 'EffectiveCost of the usage it covered (amortised commitment cost that was used).';
comment on column marts.commitments.unused_cost is 'EffectiveCost of its Unused rows plus what its purchase rows still carry as effective cost: the commitment paid for and not used.';
comment on column marts.commitments.commitment_cost is 'used_cost + unused_cost: the commitment''s amortised cost in the period.';
comment on column marts.commitments.utilisation is 'used_cost / commitment_cost (0..1; DOUBLE).';
comment on column marts.commitments.covered_list_cost is 'On-demand (list) cost of the usage it covered: ListCost, else ContractedCost, else the row''s cost.';
comment on column marts.commitments.covered_contracted_cost is 'The same at contracted prices: ContractedCost, else ListCost, else the row''s cost.';
comment on column marts.commitments.eligible_list_cost is 'List cost of all Usage rows of its scope (covered by any commitment or on demand).';
comment on column marts.commitments.eligible_contracted_cost is 'Contracted cost of the same rows.';
comment on column marts.commitments.coverage is 'covered_list_cost / eligible_list_cost: share of eligible usage this commitment covered (0..1; DOUBLE).';
comment on column marts.commitments.savings_vs_list is 'covered_list_cost - commitment_cost: what the commitment saved against list prices, after its unused part (exact).';
comment on column marts.commitments.savings_vs_contracted is 'covered_contracted_cost - commitment_cost (exact).';
comment on column marts.commitments.savings_rate_vs_list is 'savings_vs_list / covered_list_cost: the commitment''s own discount after waste (DOUBLE).';
comment on column marts.commitments.effective_savings_rate_vs_list is 'ESR of the scope: 1 - (effective cost of its eligible usage + unused commitment cost) / eligible_list_cost (DOUBLE).';
comment on column marts.commitments.effective_savings_rate_vs_contracted is 'ESR of the scope against contracted prices (DOUBLE).';
