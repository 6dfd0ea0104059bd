create or replace view marts.billing_reconciliation as
with source as (
    select
        x_BillingPeriod as billing_period,
        ProviderName as provider,
        BillingCurrency as currency,
        sum(BilledCost) as source_billed,
        sum(EffectiveCost) as source_effective
    from staging.billing
    group by billing_period, provider, currency
),

ledger as (
    select
        billing_period,
        provider,
        source_currency as currency,
        sum(source_amount) as ledger_billed,
        sum(source_effective_amount) as ledger_effective
    from ledger.cost_ledger
    where source = 'billing'
    group by billing_period, provider, source_currency
),

final as (
    select
        coalesce(source.billing_period, ledger.billing_period) as billing_period,
        coalesce(source.provider, ledger.provider) as provider,
        coalesce(source.currency, ledger.currency) as currency,
        coalesce(source.source_billed, 0) as source_billed,
        coalesce(ledger.ledger_billed, 0) as ledger_billed,
        coalesce(source.source_effective, 0) as source_effective,
        coalesce(ledger.ledger_effective, 0) as ledger_effective,
        coalesce(ledger.ledger_billed, 0) - coalesce(source.source_billed, 0) as billed_difference,
        coalesce(ledger.ledger_effective, 0) - coalesce(source.source_effective, 0) as effective_difference
    from source
    full outer join ledger
        on ledger.billing_period = source.billing_period
        and ledger.provider = source.provider
        and ledger.currency = source.currency
)

select * from final;
comment on view marts.billing_reconciliation is 'One row per billing period, provider and billing currency: the ledger''s billing totals against the active source files'' totals. Both differences must be exactly 0.';
comment on column marts.billing_reconciliation.billing_period is 'Billing period YYYY-MM.';
comment on column marts.billing_reconciliation.provider is 'ProviderName.';
comment on column marts.billing_reconciliation.currency is 'Billing (source) currency.';
comment on column marts.billing_reconciliation.source_billed is 'Sum of BilledCost in staging.billing.';
comment on column marts.billing_reconciliation.ledger_billed is 'Sum of source_amount of billing rows in the ledger.';
comment on column marts.billing_reconciliation.source_effective is 'Sum of EffectiveCost in staging.billing.';
comment on column marts.billing_reconciliation.ledger_effective is 'Sum of source_effective_amount of billing rows in the ledger.';
comment on column marts.billing_reconciliation.billed_difference is 'ledger_billed - source_billed.';
comment on column marts.billing_reconciliation.effective_difference is 'ledger_effective - source_effective.';
