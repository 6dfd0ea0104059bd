-- The month's input files: those whose rows date it, and those dating no period (header only,
-- rejected) delivered since it began and not replaced by a later delivery at their path.
select
    source, path, left(checksum, 12) as checksum, rows_in, rows_loaded, rows_quarantined,
    status,
    case when status = 'rejected' or rows_in = 0 then message end as note
from meta.loads as l
where
    list_contains(periods, $month)
    or len(periods) = 0 and loaded_at >= $start and not exists (
        select 1 from meta.loads as later
        where later.source = l.source and later.path = l.path and later.loaded_at > l.loaded_at
    )
order by source, path, loaded_at
