-- One row for the period (none when it has neither candidate rows nor a bill): the marts as they
-- will read once the candidate is published, each rule a count of the mart rows that break it.
-- Every $mart_<name> is that mart's own query from sql/marts/<name>.sql (see marts_sql), reading
-- the period's candidate in place of ledger.cost_ledger; reconciliation and totals compare exact
-- decimals here, so Great Expectations only sees counts. The day-grain and monthly marts
-- (DAY_GRAIN_MARTS in pipeline/check_queries.py) read only the days checked ($days, null for every
-- day), and their totals are compared with the candidate's rows of those days
-- ($charge_date_checked: see day_checked there).
with candidate as not materialized (  -- read by several parts below: inlined, never held whole
    select * exclude (row_hash) from ledger.cost_ledger_candidate
    where billing_period = $period
),

billing_reconciliation as (
    select * from ($mart_billing_reconciliation)
    where billing_period = $period
),

invoice_reconciliation as (
    select * from ($mart_invoice_reconciliation)
    where billing_period = $period
),

-- per mart that adds up ledger money, and currency: its totals against the candidate's
mart_totals as (
    select
        'daily_model_cost' as mart, currency, sum(billed_cost) as billed, sum(effective_cost) as effective,
        sum(economic_cost) as economic
    from ($mart_daily_model_cost)
    group by currency
    union all
    select 'monthly_model_cost', currency, sum(billed_cost), sum(effective_cost), sum(economic_cost)
    from ($mart_monthly_model_cost)
    group by currency
    union all
    select 'unit_costs', currency, null, sum(effective_cost), null  -- no billed (or economic) cost in this mart
    from ($mart_unit_costs)
    group by currency
    union all
    select 'idle_unallocated', currency, sum(billed_cost), sum(effective_cost), null
    from ($mart_idle_unallocated)
    group by currency
    union all
    select 'daily_team_cost', currency, sum(billed_cost), sum(effective_cost), null
    from ($mart_daily_team_cost)
    group by currency
    union all
    select 'monthly_team_cost', currency, sum(billed_cost), sum(effective_cost), null
    from ($mart_monthly_team_cost)
    group by currency
    union all
    select 'monthly_unit_costs', currency, null, sum(effective_cost), null  -- no billed cost in this mart
    from ($mart_monthly_unit_costs)
    group by currency
),

-- the candidate's totals per currency of the days checked ($charge_date_checked) as each mart
-- must add them up, in one pass over their rows: unit costs are the cost of serving (inference
-- phase); idle_unallocated holds the buckets only
candidate_totals as (
    select
        currency,
        sum(billed_cost) as billed,
        sum(effective_cost) as effective,
        sum(economic_cost) as economic,
        sum(effective_cost) filter (where phase = 'inference') as serving_effective,
        sum(billed_cost) filter (where model_id in ('__idle__', '__unallocated__', '__shared__')) as bucket_billed,
        sum(effective_cost) filter (where model_id in ('__idle__', '__unallocated__', '__shared__'))
            as bucket_effective
    from candidate
    where $charge_date_checked
    group by currency
),

-- a (mart, currency) with no candidate row to add up has null totals, as a mart without the
-- currency has: neither is unbalanced
expected_totals as (
    select 'daily_model_cost' as mart, currency, billed, effective, economic
    from candidate_totals
    union all
    select 'monthly_model_cost', currency, billed, effective, economic
    from candidate_totals
    union all
    select 'unit_costs', currency, null, serving_effective, null
    from candidate_totals
    union all
    select 'idle_unallocated', currency, bucket_billed, bucket_effective, null
    from candidate_totals
    union all
    select 'daily_team_cost', currency, billed, effective, null
    from candidate_totals
    union all
    select 'monthly_team_cost', currency, billed, effective, null
    from candidate_totals
    union all
    select 'monthly_unit_costs', currency, null, serving_effective, null
    from candidate_totals
),

unbalanced_totals as (
    select coalesce(m.mart, e.mart) as mart, coalesce(m.currency, e.currency) as currency
    from mart_totals as m
    full outer join expected_totals as e
        on e.mart = m.mart and e.currency = m.currency
    where
        m.billed is distinct from e.billed or m.effective is distinct from e.effective
        or m.economic is distinct from e.economic
),

unit_costs as materialized (  -- read by several counts below: computed once
    select * from ($mart_unit_costs)
),

gpu_efficiency as materialized (  -- read by several counts below: computed once
    select * from ($mart_gpu_efficiency)
),

commitments as materialized (  -- read by two counts below: computed once
    select * from ($mart_commitments)
    where billing_period = $period
),

-- commitments: the mart's used + unused cost per provider and currency against the candidate's
-- rows traced (source_ref = load_id:row_number) to the commitment charges they came from: the key
-- is built for these few charges, so the period's candidate rows are matched on the column as it is
commitment_charges as (
    select load_id || ':' || row_number as source_ref, ProviderName as provider, BillingCurrency as currency
    from staging.billing
    where x_BillingPeriod = $period and CommitmentDiscountId is not null and ChargeCategory in ('Purchase', 'Usage')
),

commitment_ledger as (
    select ch.provider, ch.currency, sum(c.source_effective_amount) as effective
    from candidate as c
    inner join commitment_charges as ch on c.source_ref = ch.source_ref
    where c.source = 'billing'
    group by ch.provider, ch.currency
),

commitment_mart as (
    select provider, currency, sum(commitment_cost) as effective
    from commitments
    group by provider, currency
),

final as (
    select
        $period as billing_period,
        (
            select count(*) from billing_reconciliation
            where billed_difference <> 0 or effective_difference <> 0
        ) as billing_reconciliation_unbalanced,
        (
            select count(*) from invoice_reconciliation
            where billed_difference <> 0 or effective_difference <> 0 or coalesce(invoice_difference, 0) <> 0)
            as invoice_reconciliation_unbalanced,
        (select count(*) from unbalanced_totals) as mart_totals_unbalanced,
        (
            select count(*) from unit_costs
            where cost_per_1k_requests < 0 or cost_per_1m_tokens < 0 or cost_per_gpu_hour < 0
        ) as unit_costs_negative,
        (select count(*) from gpu_efficiency where gpu_hours < 0) as gpu_hours_negative,
        (
            select count(*) from gpu_efficiency
            where mean_utilisation_percent not between 0 and 100 or pool_idle_share not between 0 and 1)
            as gpu_utilisation_out_of_range,
        (
            select count(*) from commitment_mart as m
            full outer join commitment_ledger as l
                on l.provider = m.provider and l.currency = m.currency
            where m.effective is distinct from l.effective
        ) as commitments_unreconciled,
        (
            select count(*) from commitments
            where utilisation not between 0 and 1 or coverage not between 0 and 1
        ) as commitment_rates_out_of_range
    where
        exists (select 1 from candidate)
        or exists (select 1 from staging.billing where x_BillingPeriod = $period)
)

select * from final
