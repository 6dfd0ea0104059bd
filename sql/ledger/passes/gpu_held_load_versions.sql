-- One row per host and telemetry file version among a pool's samples (written in by the code,
-- pipeline.ledger.frame.fill): its first and last sample time and longest step, the versions
-- ledger.gpu_held_loads records the kept pass was made from.

select
    hostname,
    load_id,
    min(ts) as first_ts,
    max(ts) as last_ts,
    max(step_seconds) as step
from $samples
group by hostname, load_id
