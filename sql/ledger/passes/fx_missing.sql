-- The (day, currency) pairs the period's parts need with no FX rate into the reporting currency
-- ($currency), first the one to name in the error: the billing rows being routed (_billing_loads:
-- every day their charge period covers), the kept candidate's rows ($period), then the other
-- parts (_other_parts); `days`: how many pairs are missing. $others_only: the other parts alone
-- (the build checks them when they are made, the billing rows before it routes them).

with new_billing_days as (
    select
        unnest(case
            when b.ChargePeriodEnd <= b.ChargePeriodStart then [b.ChargePeriodStart::date]
            else
                generate_series(
                    b.ChargePeriodStart::date, (b.ChargePeriodEnd - interval 1 microsecond)::date, interval 1 day
                )::date[]
        end) as charge_date,
        b.BillingCurrency as source_currency,
        'billing' as source,
        b.load_id || ':' || b.row_number as source_ref,
        1 as part_order
    from staging.billing as b
    inner join _billing_loads as l
        on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
    where b.BillingCurrency <> $currency and not $others_only
),

kept_days as (
    select charge_date, source_currency, 'billing' as source, min(source_ref) as source_ref, 2 as part_order
    from ledger.cost_ledger_candidate
    where
        billing_period = $period and source = 'billing' and source_currency <> $currency
        and split_part(source_ref, ':', 1) not in (select load_id from _billing_loads)
        and not $others_only
    group by charge_date, source_currency
),

other_days as (
    select charge_date, source_currency, source, source_ref, 3 as part_order
    from _other_parts
    where source_currency <> $currency
),

missing as (
    select d.*
    from (select * from new_billing_days union all select * from kept_days union all select * from other_days) as d
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
