-- Whether the warehouse is due a compaction (pipeline.warehouse.compact): $every successful
-- publishes or more since the last successful compaction, or since the warehouse began if none.
select count(*) >= $every as due
from meta.runs
where
    command = 'publish'
    and status = 'success'
    and started_at > coalesce(
        (select max(c.started_at) from meta.runs as c where c.command = 'compact' and c.status = 'success'),
        '-infinity'::timestamp
    )
