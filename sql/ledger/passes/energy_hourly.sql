-- The joules the owned hosts' GPUs drew per host, day and price per kWh (_energy_slots,
-- energy_slots.sql), each reading counted once however many workloads shared it.

with readings as (
    select distinct hostname, gpu, ts, charge_date, tariff, joules
    from _energy_slots
),

final as (
    select hostname, charge_date, tariff, sum(joules) as joules
    from readings
    group by hostname, charge_date, tariff
)

select * from final
