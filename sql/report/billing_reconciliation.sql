-- The billing period's reconciliation of the ledger against the bills, by provider.
select * from marts.billing_reconciliation
where billing_period = $month
order by provider, currency
