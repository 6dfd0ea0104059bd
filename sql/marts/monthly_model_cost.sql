create or replace view marts.monthly_model_cost as
with ledger as (
    select * from ledger.cost_ledger
),

final as (
    select
        strftime(charge_date, '%Y-%m') as month,
        model_id,
        category,
        currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(economic_cost) as economic_cost
    from ledger
    group by month, model_id, category, currency
)

select * from final;
comment on view marts.monthly_model_cost is 'One row per calendar month of charge_date, model and category: billed and effective (cash) cost, and economic cost (cash + the opportunity cost of delay), exact.';
comment on column marts.monthly_model_cost.month is 'Calendar month YYYY-MM of the charge date.';
comment on column marts.monthly_model_cost.model_id is 'Model or bucket.';
comment on column marts.monthly_model_cost.category is 'One of the six categories.';
comment on column marts.monthly_model_cost.currency is 'Reporting currency.';
comment on column marts.monthly_model_cost.billed_cost is 'Sum of ledger billed_cost.';
comment on column marts.monthly_model_cost.effective_cost is 'Sum of ledger effective_cost.';
comment on column marts.monthly_model_cost.economic_cost is 'Sum of ledger economic_cost: effective_cost plus cost of delay (opportunity, in the time category); labelled economic, never the headline cost.';
