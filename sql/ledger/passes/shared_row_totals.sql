-- The weight total each shared-pool row (_shared_rows, by source_ref) is split by: its pool's
-- weights (_shared_weights).

select r.source_ref, sum(w.w) as total
from _shared_rows as r
inner join _shared_weights as w on r.pool = w.pool
group by r.source_ref
