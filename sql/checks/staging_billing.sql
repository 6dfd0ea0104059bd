-- One row per provider and billing currency of the period's staging.billing: counts of rows that
-- break a staging rule (aggregated here so Great Expectations sees a few rows, not millions).
with billing as (
    select *
    from staging.billing
    where x_BillingPeriod = $period
),

grouped as (
    select
        ProviderName as provider,
        BillingCurrency as currency,
        count(*) as row_count,
        count(*) filter (ChargePeriodEnd < ChargePeriodStart) as inverted_period_rows,
        count(*) filter (BilledCost is null or EffectiveCost is null) as missing_cost_rows,
        count(*) filter (ChargePeriodStart < BillingPeriodStart) as late_charge_rows
    from billing
    group by ProviderName, BillingCurrency
),

final as (
    select
        $period as billing_period,
        provider,
        currency,
        row_count,
        -- every row of a group has its currency: the code is tested once per group, not per row
        case when regexp_full_match(coalesce(currency, ''), '[A-Z]{3}') then 0 else row_count end as bad_currency_rows,
        inverted_period_rows,
        missing_cost_rows,
        late_charge_rows
    from grouped
)

select * from final
order by provider, currency
