-- How much of billing load $new is billing load $old again: one row with the rows of $new whose
-- provider, billing account and period $old also has (shared_keys), and those of them whose
-- charge $old holds (shared_charges). A charge is what was charged, for whom and when: the
-- columns below, compared with nulls equal. Amounts, quantities, the invoice id and tags are left
-- out: a restatement may change them, and it is still the same charge.
with new_rows as (
    select * from staging.billing where load_id = $new
),

old_rows as (
    select * from staging.billing where load_id = $old
),

keyed as (
    select n.row_number from new_rows as n
    semi join (select distinct ProviderName, BillingAccountId, x_BillingPeriod from old_rows) as k
        on n.ProviderName = k.ProviderName and n.BillingAccountId is not distinct from k.BillingAccountId
        and n.x_BillingPeriod = k.x_BillingPeriod
),

charged as (
    select n.row_number
    from new_rows as n
    semi join old_rows as o
        on n.ProviderName is not distinct from o.ProviderName
        and n.BillingAccountId is not distinct from o.BillingAccountId
        and n.SubAccountId is not distinct from o.SubAccountId
        and n.x_BillingPeriod is not distinct from o.x_BillingPeriod
        and n.ChargePeriodStart is not distinct from o.ChargePeriodStart
        and n.ChargePeriodEnd is not distinct from o.ChargePeriodEnd
        and n.ChargeCategory is not distinct from o.ChargeCategory
        and n.ChargeClass is not distinct from o.ChargeClass
        and n.ChargeFrequency is not distinct from o.ChargeFrequency
        and n.ChargeDescription is not distinct from o.ChargeDescription
        and n.ServiceName is not distinct from o.ServiceName
        and n.SkuId is not distinct from o.SkuId
        and n.SkuPriceId is not distinct from o.SkuPriceId
        and n.ResourceId is not distinct from o.ResourceId
        and n.RegionId is not distinct from o.RegionId
        and n.CommitmentDiscountId is not distinct from o.CommitmentDiscountId
        and n.ConsumedUnit is not distinct from o.ConsumedUnit
        and n.PricingUnit is not distinct from o.PricingUnit
        and n.BillingCurrency is not distinct from o.BillingCurrency
),

final as (
    select (select count(*) from keyed) as shared_keys, (select count(*) from charged) as shared_charges
)

select * from final
