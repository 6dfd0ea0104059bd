-- One row per provider, billing account, invoice (null = not final) and currency of the period,
-- on any side: the bill (staging.billing), the candidate's billing rows traced to their charges
-- (source_ref) and the invoices file (staging.invoices), compared exactly. The figures are the
-- mart's own query (sql/marts/invoice_reconciliation.sql, filled in by validate.py as
-- $mart_<name>) over the period's candidate: the rule is written once. Here they are shown as
-- the suite's failure messages name them: a side without rows is 'missing', an invoice that is
-- not final 'not final'.
with mart as (
    select * from ($mart_invoice_reconciliation)
    where billing_period = $period
),

final as (
    select
        billing_period,
        provider,
        coalesce(billing_account_id, 'none') as billing_account_id,
        coalesce(invoice_id, 'not final') as invoice_id,
        currency,
        case when source_rows > 0 then cast(source_billed as varchar) else 'missing' end as source_billed,
        case when ledger_rows > 0 then cast(ledger_billed as varchar) else 'missing' end as candidate_billed,
        cast(billed_difference as varchar) as billed_difference,
        billed_difference = 0 as billed_exact,
        cast(effective_difference as varchar) as effective_difference,
        effective_difference = 0 as effective_exact,
        coalesce(cast(invoice_total as varchar), 'none') as invoice_total,
        coalesce(cast(invoice_difference as varchar), 'none') as invoice_difference,
        coalesce(invoice_difference = 0, true) as invoice_exact
    from mart
)

select * from final
order by provider, billing_account_id, invoice_id, currency
