-- One row per host and telemetry file version among a pool's samples (the days part, written in by
-- the code, pipeline.ledger.frame.fill: the pool's hosts' rows of ledger.telemetry_days in a window
-- of whole days): its first and last sample time and longest step, the versions
-- ledger.gpu_held_loads records the kept pass was made from.

select
    hostname,
    load_id,
    min(first_ts) as first_ts,
    max(last_ts) as last_ts,
    max(step) as step
from $days
group by hostname, load_id
