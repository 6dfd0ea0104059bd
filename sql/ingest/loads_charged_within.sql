-- The billing loads of $loads holding a row whose charge period starts between $first and $last,
-- both included: the first and last ChargePeriodStart of the load being written. Only these can
-- hold one of its charges (version_overlap.sql) or lines (lines_in_common.sql), which both compare
-- ChargePeriodStart. The bounds come as values, not as a subquery, so that the scan skips the row
-- groups outside them: day files of one month hold none of each other's days.
select distinct load_id
from staging.billing
where list_contains($loads, load_id) and ChargePeriodStart between $first and $last
order by load_id
