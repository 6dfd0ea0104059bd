-- How much of billing load $new each earlier billing load of $candidates holds again: one row per
-- candidate holding a charge of $new, with the rows of $new whose charge it holds
-- (shared_charges). The rows of $new whose key it holds (shared_keys) come with
-- earlier_loads_sharing_keys.sql: a second scan of the candidates here would be shared with this
-- one, and the join could no longer skip the candidates' rows outside $new's charge periods. A
-- charge is what was charged, for whom and when: the columns below, compared with nulls equal.
-- Amounts, quantities, the invoice id and tags are left out: a restatement may change them, and
-- it is still the same charge. The rows of $new are grouped by charge first, so each candidate row
-- meets at most one group, and a charge repeated in both loads counts once per row of $new.
with new_charges as (
    select
        ProviderName,
        BillingAccountId,
        SubAccountId,
        x_BillingPeriod,
        ChargePeriodStart,
        ChargePeriodEnd,
        ChargeCategory,
        ChargeClass,
        ChargeFrequency,
        ChargeDescription,
        ServiceName,
        SkuId,
        SkuPriceId,
        ResourceId,
        RegionId,
        CommitmentDiscountId,
        ConsumedUnit,
        PricingUnit,
        BillingCurrency,
        min(row_number) as charge,
        count(*) as new_rows
    from staging.billing
    where load_id = $new
    group by all
),

held as (
    select distinct o.load_id, n.charge, n.new_rows
    from staging.billing as o
    inner join new_charges as n
        on o.ProviderName is not distinct from n.ProviderName
        and o.BillingAccountId is not distinct from n.BillingAccountId
        and o.SubAccountId is not distinct from n.SubAccountId
        and o.x_BillingPeriod is not distinct from n.x_BillingPeriod
        and o.ChargePeriodStart is not distinct from n.ChargePeriodStart
        and o.ChargePeriodEnd is not distinct from n.ChargePeriodEnd
        and o.ChargeCategory is not distinct from n.ChargeCategory
        and o.ChargeClass is not distinct from n.ChargeClass
        and o.ChargeFrequency is not distinct from n.ChargeFrequency
        and o.ChargeDescription is not distinct from n.ChargeDescription
        and o.ServiceName is not distinct from n.ServiceName
        and o.SkuId is not distinct from n.SkuId
        and o.SkuPriceId is not distinct from n.SkuPriceId
        and o.ResourceId is not distinct from n.ResourceId
        and o.RegionId is not distinct from n.RegionId
        and o.CommitmentDiscountId is not distinct from n.CommitmentDiscountId
        and o.ConsumedUnit is not distinct from n.ConsumedUnit
        and o.PricingUnit is not distinct from n.PricingUnit
        and o.BillingCurrency is not distinct from n.BillingCurrency
    where list_contains($candidates, o.load_id)
),

final as (
    select load_id, sum(new_rows) as shared_charges from held group by load_id
)

select * from final order by load_id
