-- The invoice_ledger_days rows the last validation that passed kept, of the days not checked again
-- ($days: a row of a day checked, or of no day, is traced again).
select
    billing_period,
    charge_date,
    provider,
    billing_account_id,
    invoice_id,
    currency,
    ledger_rows,
    ledger_billed,
    ledger_effective
from meta.validated_invoice_days
where billing_period = $period and charge_date is not null and not list_contains($days::date[], charge_date)
