create or replace view marts.daily_model_cost as
with ledger as (
    select * from ledger.cost_ledger
),

final as (
    select
        charge_date,
        billing_period,
        model_id,
        category,
        currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(economic_cost) as economic_cost
    from ledger
    group by charge_date, billing_period, model_id, category, currency
)

select * from final;
comment on view marts.daily_model_cost is 'One row per day, billing period, model and category: billed and effective (cash) cost, and economic cost (cash + the opportunity cost of delay), exact.';
comment on column marts.daily_model_cost.charge_date is 'Day (UTC).';
comment on column marts.daily_model_cost.billing_period is 'Billing period YYYY-MM.';
comment on column marts.daily_model_cost.model_id is 'Model or bucket.';
comment on column marts.daily_model_cost.category is 'One of the six categories.';
comment on column marts.daily_model_cost.currency is 'Reporting currency.';
comment on column marts.daily_model_cost.billed_cost is 'Sum of ledger billed_cost.';
comment on column marts.daily_model_cost.effective_cost is 'Sum of ledger effective_cost.';
comment on column marts.daily_model_cost.economic_cost is 'Sum of ledger economic_cost: effective_cost plus cost of delay (opportunity, in the time category); labelled economic, never the headline cost.';
