-- How many files of the period have fewer (or more) staged billing rows than when the period last
-- passed validation (meta.validated_billing_loads against _billing_loads, counted by keep_marts):
-- staged rows are never changed in place, so any other count means charges went, and the ledger
-- rows of every day are traced to their charges again. A file new since has no kept count.
select count(*) as gone
from meta.validated_billing_loads as k
left join _billing_loads as n
    on n.load_id = k.load_id
where k.billing_period = $period and n.staged_rows is distinct from k.staged_rows
