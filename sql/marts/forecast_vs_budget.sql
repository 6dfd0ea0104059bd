-- One row per budget line (staging.budgets): the budget in the reporting currency, the cost to
-- date and the month-end forecast with its interval (marts.cost_forecast, same scope and
-- category), and where the month is heading. A budget in another currency is converted at the
-- last rate on or before the month's first day (staging.fx_rates).
create or replace view marts.forecast_vs_budget as
with budgets as (
    select
        period,
        case
            when model_id is not null then 'model'
            when team is not null then 'team'
            when business_line is not null then 'business_line'
            when owner is not null then 'owner'
            else 'total'
        end as scope_kind,
        coalesce(model_id, team, business_line, owner, '*') as scope,
        coalesce(category, 'all') as category,
        amount,
        currency as budget_currency,
        load_id,
        row_number
    from staging.budgets
),

forecast as (
    select * from marts.cost_forecast
),

reporting as (
    select coalesce((select currency from ledger.cost_ledger limit 1), '') as currency
),

converted as (
    select
        b.*,
        case
            when b.budget_currency = r.currency then b.amount
            else cast(b.amount * (
                select arg_max(x.rate, x.rate_date) from staging.fx_rates as x
                where x.currency = b.budget_currency and x.rate_date <= cast(b.period || '-01' as date)
            ) as decimal(38, 18))
        end as budget
    from budgets as b, reporting as r
),

final as (
    select
        b.period,
        b.scope_kind,
        b.scope,
        b.category,
        b.amount as budget_amount,
        b.budget_currency,
        b.budget,
        f.currency,
        f.data_through,
        f.actual_to_date,
        f.forecast,
        f.forecast_low,
        f.forecast_high,
        f.forecast - b.budget as forecast_variance,
        f.actual_to_date / nullif(b.budget, 0) as consumed,
        case
            when f.month is null then 'no_data'
            when b.budget is null then 'no_fx_rate'
            when f.actual_to_date > b.budget then 'over'
            when f.forecast > b.budget then 'forecast_over'
            when f.forecast_high > b.budget then 'at_risk'
            else 'on_track'
        end as status,
        b.load_id,
        b.row_number
    from converted as b
    left join forecast as f
        on f.month = b.period and f.scope_kind = b.scope_kind and f.scope = b.scope and f.category = b.category
)

select * from final;
comment on view marts.forecast_vs_budget is 'One row per budget line: budget, cost to date and month-end forecast (marts.cost_forecast) for the same month, scope and category, and a status: over (spent more than the budget), forecast_over (the forecast exceeds it), at_risk (the interval''s upper end does), on_track, no_data (no published cost for the month yet) or no_fx_rate.';
comment on column marts.forecast_vs_budget.period is 'Month YYYY-MM.';
comment on column marts.forecast_vs_budget.scope_kind is 'model, team, business_line, owner or total (a line naming none).';
comment on column marts.forecast_vs_budget.scope is 'The model, team, business line or owner; * for total.';
comment on column marts.forecast_vs_budget.category is 'Category, or all.';
comment on column marts.forecast_vs_budget.budget_amount is 'Amount as delivered, exact.';
comment on column marts.forecast_vs_budget.budget_currency is 'Currency of budget_amount.';
comment on column marts.forecast_vs_budget.budget is 'Budget in the reporting currency (converted at the last rate on or before the month''s first day); null without a rate.';
comment on column marts.forecast_vs_budget.currency is 'Reporting currency.';
comment on column marts.forecast_vs_budget.data_through is 'Last day with metered data in the month.';
comment on column marts.forecast_vs_budget.actual_to_date is 'Effective cost to data_through, exact.';
comment on column marts.forecast_vs_budget.forecast is 'Month-end forecast, exact (the actual when the month is complete).';
comment on column marts.forecast_vs_budget.forecast_low is 'Lower end of the forecast interval (DOUBLE).';
comment on column marts.forecast_vs_budget.forecast_high is 'Upper end of the forecast interval (DOUBLE).';
comment on column marts.forecast_vs_budget.forecast_variance is 'forecast - budget: positive = heading over.';
comment on column marts.forecast_vs_budget.consumed is 'actual_to_date / budget (DOUBLE).';
comment on column marts.forecast_vs_budget.status is 'over, forecast_over, at_risk, on_track, no_data or no_fx_rate.';
comment on column marts.forecast_vs_budget.load_id is 'Budget file version (meta.loads.load_id).';
comment on column marts.forecast_vs_budget.row_number is 'Row of the budget line in that file.';
