-- The (day, currency) pairs of the period's parts with no FX rate into the reporting currency
-- ($currency), first the one to name in the error: billing rows (staging.billing: every day their
-- charge period covers), then the other parts (_other_parts); `days`: how many pairs are missing.

with billing_days as (
    select
        unnest(case
            when ChargePeriodEnd <= ChargePeriodStart then [ChargePeriodStart::date]
            else generate_series(ChargePeriodStart::date, (ChargePeriodEnd - interval 1 microsecond)::date, interval 1 day)::date[]
        end) as charge_date,
        BillingCurrency as source_currency,
        'billing' as source,
        load_id || ':' || row_number as source_ref,
        1 as part_order
    from staging.billing
    where x_BillingPeriod = $period and BillingCurrency <> $currency
),

other_days as (
    select charge_date, source_currency, source, source_ref, 2 as part_order
    from _other_parts
    where source_currency <> $currency
),

missing as (
    select d.*
    from (select * from billing_days union all select * from other_days) as d
    left join staging.fx_rates as r
        on d.charge_date = r.rate_date and d.source_currency = r.currency
    where r.rate is null
),

counted as (
    select count(*) as days
    from (select distinct source_currency, charge_date from missing) as pairs
),

final as (
    select m.source_currency, m.charge_date, m.source, m.source_ref, c.days
    from missing as m
    cross join counted as c
    order by m.part_order, m.charge_date, m.source_currency, m.source_ref nulls last
    limit 1
)

select * from final
