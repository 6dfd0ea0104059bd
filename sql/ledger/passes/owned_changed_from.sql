-- The earliest instants whose owned-server parts can change when telemetry from $first_changed on
-- arrives or goes (the samples of the servers it changed, written in by the code): `held_from`,
-- for the GPU time held (the hardware parts), $reach before it, since a sample holds its GPU
-- until the next one when that comes within the gap rule; `energy_from`, for the energy parts,
-- $first_changed itself, or each energy counter's last reading before it when earlier, since a
-- counter reading's energy is the increase to the next reading, however late that comes (a power
-- reading's energy is its own: sql/ledger/passes/energy_slots.sql).

select
    $first_changed::timestamp - $reach::interval as held_from,
    least($first_changed::timestamp, min(last_reading)) as energy_from
from (
    select max(ts) as last_reading
    from $samples
    where metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION' and ts < $first_changed::timestamp
    group by hostname, gpu
)
