-- The period's rows of a mart of per-file totals ($kept: meta.validated_billing_totals for
-- marts.billing_load_totals, meta.validated_commitment_totals for marts.commitment_load_totals):
-- for each file whose staged rows of the period are as many as when the period last passed
-- validation (_billing_loads against meta.validated_billing_loads: staged rows are never changed in
-- place), as that validation kept them, unless $reuse is false (a full check); the other files'
-- are added up again by keep_marts.
select t.*
from $kept as t
inner join meta.validated_billing_loads as k
    on k.billing_period = t.billing_period and k.load_id = t.load_id
inner join _billing_loads as n
    on n.load_id = t.load_id and n.staged_rows = k.staged_rows
where t.billing_period = $period and $reuse
