with hourly as (
    select ChargePeriodStart as hour, sum(EffectiveCost) as cost
    from staging.billing
    where
        x_BillingPeriod = $month and ChargeCategory = 'Usage'
        and coalesce(CommitmentDiscountId, '') = ''
        and regexp_full_match(coalesce(ResourceName, ''), $pattern)
        and ChargePeriodEnd - ChargePeriodStart = interval 1 hour
    group by hour
),

final as (
    select count(*) as hours, min(cost) as baseline, sum(cost) as on_demand_cost
    from hourly
)

select hours, baseline, on_demand_cost from final
