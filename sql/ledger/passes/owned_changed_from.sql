-- The earliest instant whose owned-server parts can change when telemetry from $first_changed on
-- arrives or goes (the samples of the servers it changed, written in by the code): $reach before
-- it, since a sample holds its GPU until the next one when that comes within the gap rule;
-- and each energy counter's last reading before it, since a reading's energy is the increase to
-- the next reading, however late that comes (sql/ledger/passes/energy_slots.sql).

select least($first_changed::timestamp - $reach::interval, min(last_reading)) as changed_from
from (
    select max(ts) as last_reading
    from $samples
    where metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION' and ts < $first_changed::timestamp
    group by hostname, gpu
)
