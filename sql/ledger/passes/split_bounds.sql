-- The first billing row being routed (_billing_loads) or other part (_other_parts) whose exact
-- arithmetic could leave 128 bits (the limit of DuckDB's HUGEINT, which raises rather than wraps):
-- an amount in quanta (1e-18) times the seconds of a charge period spread over days, or times its
-- FX rate in 1e-10 (pipeline.money.check_split_bounds). $limit: 2^127 - 1. Exact integer division
-- is slow in DuckDB, so rows too small to overflow are not divided.

with billing_rows as (
    select
        b.load_id || ':' || b.row_number as source_ref,
        b.BillingCurrency as source_currency,
        greatest(abs(b.BilledCost), abs(b.EffectiveCost), abs(coalesce(b.ConsumedQuantity, 0))) as amount,
        greatest((epoch_us(b.ChargePeriodEnd) - epoch_us(b.ChargePeriodStart)) // 1000000, 1) as seconds
    from staging.billing as b
    inner join _billing_loads as l
        on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
),

other_rows as (
    select
        source_ref,
        source_currency,
        greatest(abs(source_amount), abs(source_effective_amount)) as amount,
        1 as seconds
    from _other_parts
),

-- the largest rate of each currency (a bound for every day's)
rates as (
    select currency, max(abs(rate)) as rate
    from staging.fx_rates
    group by currency
),

-- below 1,000 units an amount cannot overflow with any charge period under 5 million years or any
-- rate under 10 million, so only the larger ones are checked exactly (the check is per row)
rated as (
    select p.source_ref, p.amount, p.seconds, coalesce(r.rate, 1) as rate
    from (select * from billing_rows union all select * from other_rows) as p
    left join rates as r on p.source_currency = r.currency
    where p.amount > 1000 or (select max(rate) from rates) > 10000000
),

final as (
    select source_ref, amount, seconds, rate
    from rated
    where money_quanta(amount) > $limit::hugeint // seconds::hugeint
        or money_quanta(amount) > $limit::hugeint // rate_quanta(rate)
    limit 1
)

select * from final
