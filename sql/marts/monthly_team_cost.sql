-- One row per calendar month, business line, team, owner and category: the roll-up a budget
-- owner reads. Each day's cost goes to the team the model belonged to that day.
create or replace view marts.monthly_team_cost as
with ledger as (
    select
        charge_date,
        model_id,
        category,
        currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from ledger.cost_ledger
    group by charge_date, model_id, category, currency
),

owned as (
    select
        l.*,
        case
            when r.model_id is not null then coalesce(nullif(r.business_line, ''), 'unassigned')
            when l.model_id in ('__idle__', '__unallocated__', '__shared__') then l.model_id
            else 'unregistered'
        end as business_line,
        case
            when r.model_id is not null then coalesce(nullif(r.team, ''), 'unassigned')
            when l.model_id in ('__idle__', '__unallocated__', '__shared__') then l.model_id
            else 'unregistered'
        end as team,
        case
            when r.model_id is not null then coalesce(nullif(r.owner, ''), 'unassigned')
            when l.model_id in ('__idle__', '__unallocated__', '__shared__') then l.model_id
            else 'unregistered'
        end as owner
    from ledger as l
    left join meta.model_registry as r
        on r.model_id = l.model_id
        and (r.valid_from is null or l.charge_date >= r.valid_from)
        and (r.valid_to is null or l.charge_date < r.valid_to)
),

final as (
    select
        strftime(charge_date, '%Y-%m') as month,
        business_line,
        team,
        owner,
        category,
        currency,
        count(distinct model_id) as models,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from owned
    group by month, business_line, team, owner, category, currency
)

select * from final;
comment on view marts.monthly_team_cost is 'One row per calendar month, business line, team, owner and category: billed and effective cost, exact; each day''s cost rolls up to the team the model belonged to that day (meta.model_registry).';
comment on column marts.monthly_team_cost.month is 'Calendar month YYYY-MM of the charge date.';
comment on column marts.monthly_team_cost.business_line is 'Business line; unassigned when the registry leaves it empty; the bucket name for __idle__, __unallocated__ and __shared__; unregistered for models the registry does not know.';
comment on column marts.monthly_team_cost.team is 'Team (same rules as business_line).';
comment on column marts.monthly_team_cost.owner is 'Owner (same rules as business_line).';
comment on column marts.monthly_team_cost.category is 'One of the six categories.';
comment on column marts.monthly_team_cost.currency is 'Reporting currency.';
comment on column marts.monthly_team_cost.models is 'Models (or buckets) with cost in this row.';
comment on column marts.monthly_team_cost.billed_cost is 'Sum of ledger billed_cost.';
comment on column marts.monthly_team_cost.effective_cost is 'Sum of ledger effective_cost.';
