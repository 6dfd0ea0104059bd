-- The period's ($period) days as this publish wrote them: the digests its validation of the
-- candidate (run $run_id) took (meta.validated_days). None when the candidate was not validated:
-- the next publish then compares every day.

insert into meta.published_days
select billing_period, charge_date, digest, run_id, $schema_digest
from meta.validated_days
where billing_period = $period and run_id = $run_id
