-- What restating the billing period's bills changed, by provider, account and currency.
with restated as (
    select * from meta.restatements where billing_period = $month
),

final as (
    select
        provider, billing_account_id, currency, old_rows, new_rows, old_billed, new_billed, billed_change,
        old_effective, new_effective, effective_change, restated_at
    from restated
)

select * from final order by restated_at, provider, billing_account_id, currency
