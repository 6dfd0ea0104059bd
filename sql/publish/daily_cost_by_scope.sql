-- Effective cost per scope (the whole estate, a business line, team, owner or model, as the dated
-- registry assigns each day), category and day in [$start, $end]: the series a forecast runs on.
with days as (
    select charge_date, model_id, business_line, team, owner, category, currency, effective_cost
    from marts.daily_team_cost
    where charge_date >= $start and charge_date <= $end
),

scoped as (
    select 'total' as scope_kind, '*' as scope, category, currency, charge_date, effective_cost from days
    union all
    select 'business_line', business_line, category, currency, charge_date, effective_cost from days
    union all
    select 'team', team, category, currency, charge_date, effective_cost from days
    union all
    select 'owner', owner, category, currency, charge_date, effective_cost from days
    union all
    select 'model', model_id, category, currency, charge_date, effective_cost from days
),

final as (
    select scope_kind, scope, category, currency, charge_date, sum(effective_cost) as cost
    from scoped
    group by scope_kind, scope, category, currency, charge_date
)

select * from final
order by scope_kind, scope, category, currency, charge_date
