with hr as (
    select currency, hr_cost, variance
    from labor_variance
    where month = $period
),

compared as (
    select
        coalesce(h.currency, c.currency) as currency,
        coalesce(h.currency is not null and coalesce(c.cost, 0) + h.variance = h.hr_cost, false) as cost_exact
    from hr as h
    full outer join candidate_totals as c
        on c.currency = h.currency
),

final as (
    select $period as month, currency, cost_exact
    from compared
)

select * from final
order by currency
