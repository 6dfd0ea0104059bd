-- The period's billing_load_totals rows: for each file whose staged rows of the period are as many
-- as when the period last passed validation (_billing_loads against meta.validated_billing_loads:
-- staged rows are never changed in place), as that validation kept them
-- (meta.validated_billing_totals), unless $reuse is false (a full check); the other files' are
-- added up again by keep_marts.
select
    t.billing_period,
    t.load_id,
    t.provider,
    t.billing_account_id,
    t.invoice_id,
    t.currency,
    t.charges,
    t.billed,
    t.effective
from meta.validated_billing_totals as t
inner join meta.validated_billing_loads as k
    on k.billing_period = t.billing_period and k.load_id = t.load_id
inner join _billing_loads as n
    on n.load_id = t.load_id and n.staged_rows = k.staged_rows
where t.billing_period = $period and $reuse
