-- One row per published labor figure of the month: each staging.labor cell, each standard rate
-- of a rate period covering the month, and each (model, cell) of the candidate's labor rows, with
-- whether it stands for at least k people (the k of the last labor build). A candidate labor row
-- with no cell behind it counts as fewer.
with k as (
    select max(k_anonymity) as k
    from meta.labor_build
),

cells as (
    select 'cell' as figure, month, model_id, role, currency, headcount
    from staging.labor
    where month = $period
),

rates as (
    select 'rate' as figure, $period as month, null as model_id, role, currency, headcount
    from staging.labor_rates
    where $period between first_month and last_month
),

ledger_rows as (
    select distinct
        'ledger' as figure, c.billing_period as month, c.model_id, c.subcategory as role,
        c.source_currency as currency, s.headcount
    from ledger.cost_ledger_candidate as c
    left join staging.labor as s
        on s.month = c.billing_period and s.model_id = c.model_id and s.role = c.subcategory
        and s.currency = c.source_currency
    where c.billing_period = $period and c.source = 'labor'
),

final as (
    select figure, month, model_id, role, currency, coalesce(headcount >= (select k from k), false) as at_least_k
    from (select * from cells union all select * from rates union all select * from ledger_rows)
)

select * from final
order by figure, model_id, role, currency
