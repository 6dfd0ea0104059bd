-- The first billing row being routed (_billing_loads) or other part (_other_parts) whose exact
-- arithmetic could leave 128 bits (the limit of DuckDB's HUGEINT, which raises rather than wraps):
-- an amount in quanta (1e-18) times the seconds of a charge period spread over days
-- (pipeline.money.check_split_bounds). $limit: 2^127 - 1. FX conversion cannot overflow for an
-- amount and rate within their declared range (macros.sql: convert_hi). Exact integer division
-- is slow in DuckDB, so rows too small to overflow are not divided. $others_only: the other parts
-- alone (the build checks them when they are made, the billing rows before it routes them).

with billing_rows as (
    select
        b.load_id || ':' || b.row_number as source_ref,
        greatest(abs(b.BilledCost), abs(b.EffectiveCost), abs(coalesce(b.ConsumedQuantity, 0))) as amount,
        greatest((epoch_us(b.ChargePeriodEnd) - epoch_us(b.ChargePeriodStart)) // 1000000, 1) as seconds
    from staging.billing as b
    inner join _billing_loads as l
        on b.load_id = l.load_id and b.x_BillingPeriod = l.billing_period
    where not $others_only
),

other_rows as (
    select
        source_ref,
        greatest(abs(source_amount), abs(source_effective_amount)) as amount,
        1 as seconds
    from _other_parts
),

-- below 1,000 units an amount cannot overflow with any charge period under 5 million years
final as (
    select source_ref, amount, seconds
    from (select * from billing_rows union all select * from other_rows)
    where amount > 1000 and money_quanta(amount) > $limit::hugeint // seconds::hugeint
    limit 1
)

select * from final
