-- One row per provider and billing currency of the period's staging.billing: counts of rows that
-- break a staging rule (aggregated here so Great Expectations sees a few rows, not millions).
with billing as (
    select *
    from staging.billing
    where x_BillingPeriod = $period
),

final as (
    select
        $period as billing_period,
        ProviderName as provider,
        BillingCurrency as currency,
        count(*) as row_count,
        count(*) filter (not regexp_full_match(coalesce(BillingCurrency, ''), '[A-Z]{3}')) as bad_currency_rows,
        count(*) filter (ChargePeriodEnd < ChargePeriodStart) as inverted_period_rows,
        count(*) filter (BilledCost is null or EffectiveCost is null) as missing_cost_rows,
        count(*) filter (ChargePeriodStart < BillingPeriodStart) as late_charge_rows
    from billing
    group by ProviderName, BillingCurrency
)

select * from final
order by provider, currency
