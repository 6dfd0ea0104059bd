-- One row per month in $months and currency where a mart Python filled disagrees with the ledger:
-- price_volume_mix's costs must add up to the month's ledger cost, and the estate's cost to date
-- in cost_forecast to the ledger's cost up to the month's data_through day (the marts.data_through
-- rows of $months the publish keeps in _data_through). No row: reconciled.
with ledger as (
    select
        t.month,
        l.currency,
        sum(l.effective_cost) as cost,
        sum(l.effective_cost) filter (where l.charge_date <= t.data_through) as to_date
    from ledger.cost_ledger as l
    inner join _data_through as t
        on t.month = strftime(l.charge_date, '%Y-%m')
    where l.charge_date >= $start and l.charge_date < $end
    group by t.month, l.currency
),

split as (
    select month, currency, sum(cost) as cost
    from marts.price_volume_mix
    where list_contains($months, month)
    group by month, currency
),

forecast as (
    select month, currency, actual_to_date
    from marts.cost_forecast
    where list_contains($months, month) and scope_kind = 'total' and category = 'all'
),

final as (
    select 'price_volume_mix' as mart, s.month, s.currency, s.cost as mart_cost, l.cost as ledger_cost
    from split as s
    left join ledger as l
        on l.month = s.month and l.currency = s.currency
    where l.cost is distinct from s.cost
    union all
    select 'cost_forecast', f.month, f.currency, f.actual_to_date, l.to_date
    from forecast as f
    left join ledger as l
        on l.month = f.month and l.currency = f.currency
    where l.to_date is distinct from f.actual_to_date
)

select * from final
order by mart, month, currency
