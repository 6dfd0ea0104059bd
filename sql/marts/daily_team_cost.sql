-- One row per day, model, category and the business line, team and owner the model belonged to
-- that day (meta.model_registry: dated, so a model that moved keeps its history). Buckets carry
-- their own name in all three; a model the registry does not know is 'unregistered'.
create or replace view marts.daily_team_cost as
with ledger as (
    select
        charge_date,
        billing_period,
        model_id,
        category,
        currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from ledger.cost_ledger
    group by charge_date, billing_period, model_id, category, currency
),

owned as (
    select
        l.*,
        r.model_id is not null as registered,
        r.business_line,
        r.team,
        r.owner
    from ledger as l
    left join meta.model_registry as r
        on r.model_id = l.model_id
        and (r.valid_from is null or l.charge_date >= r.valid_from)
        and (r.valid_to is null or l.charge_date < r.valid_to)
),

final as (
    select
        charge_date,
        billing_period,
        model_id,
        case
            when registered then coalesce(nullif(business_line, ''), 'unassigned')
            when model_id in ('__idle__', '__unallocated__', '__shared__') then model_id
            else 'unregistered'
        end as business_line,
        case
            when registered then coalesce(nullif(team, ''), 'unassigned')
            when model_id in ('__idle__', '__unallocated__', '__shared__') then model_id
            else 'unregistered'
        end as team,
        case
            when registered then coalesce(nullif(owner, ''), 'unassigned')
            when model_id in ('__idle__', '__unallocated__', '__shared__') then model_id
            else 'unregistered'
        end as owner,
        category,
        currency,
        billed_cost,
        effective_cost
    from owned
)

select * from final;
comment on view marts.daily_team_cost is 'One row per day, model and category, with the business line, team and owner the model belonged to that day (dated registry: a model that moved keeps its history): billed and effective cost, exact.';
comment on column marts.daily_team_cost.charge_date is 'Day (UTC).';
comment on column marts.daily_team_cost.billing_period is 'Billing period YYYY-MM.';
comment on column marts.daily_team_cost.model_id is 'Model or bucket.';
comment on column marts.daily_team_cost.business_line is 'Business line of the model that day; unassigned when the registry leaves it empty; the bucket name for __idle__, __unallocated__ and __shared__; unregistered for a model the registry does not know.';
comment on column marts.daily_team_cost.team is 'Team of the model that day (same rules as business_line).';
comment on column marts.daily_team_cost.owner is 'Owner of the model that day (same rules as business_line).';
comment on column marts.daily_team_cost.category is 'One of the six categories.';
comment on column marts.daily_team_cost.currency is 'Reporting currency.';
comment on column marts.daily_team_cost.billed_cost is 'Sum of ledger billed_cost.';
comment on column marts.daily_team_cost.effective_cost is 'Sum of ledger effective_cost.';
