-- One row per owned GPU reading and workload there (_energy_samples: the owned hosts' samples of
-- the window), in the period ($period): `joules`, the energy the GPU drew from the reading to the
-- next (the same on each workload row), `n`, the workloads sharing it, the price per kWh of its
-- hour, and the model (pipeline/ledger/owned.py). A GPU with energy-counter samples (mJ) is
-- measured by the counter: the energy is the increase to the next reading, a decrease is a reset
-- (count the new value), to 9 decimals rounded half to even; the energy over a silence longer
-- than the gap rule ($gap_steps steps) is __unallocated__ (telemetry_gap), nobody seen holding the
-- GPU. Any other GPU: power (W) x step. Readings of the same GPU and time (time-sliced pods) are
-- one. The hour's price: the first time-of-use band (_tariff_bands: UTC hours, ISO weekdays) it
-- falls in, else $flat_tariff.

with energy_rows as (
    select *
    from _energy_samples
    where metric in ('DCGM_FI_DEV_POWER_USAGE', 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION')
),

counted as (
    select distinct hostname, gpu
    from energy_rows
    where metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION'
),

measured as (
    select r.*, c.gpu is not null as counter
    from energy_rows as r
    left join counted as c on r.hostname = c.hostname and r.gpu = c.gpu
    where
        (c.gpu is not null and r.metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION')
        or (c.gpu is null and r.metric = 'DCGM_FI_DEV_POWER_USAGE')
),

readings as (
    select hostname, gpu, ts, max(value) as value, max(step_seconds) as step_seconds, any_value(counter) as counter
    from measured
    group by hostname, gpu, ts
),

timed as (
    select
        *,
        lead(value) over reading_order as following,
        (epoch_us(lead(ts) over reading_order) - epoch_us(ts)) // 1000 as to_next_ms
    from readings
    window reading_order as (partition by hostname, gpu order by ts)
),

-- the counter's increase in mJ, as a count of 1e-12 J (x 0.001 J/mJ, 9 decimals of mJ)
increases as (
    select
        *,
        money_quanta(case when following >= value then following - value else following end) // 1000000000 as delta_q
    from timed
),

thousandths as (
    select *, floor_div_bounded(delta_q, 1000::hugeint) as delta_floor
    from increases
),

energies as (
    select
        hostname,
        gpu,
        ts,
        case
            when counter then quantity_of_nanos(even_round(delta_q, 1000::hugeint, delta_floor))
            else (value * step_seconds::decimal(38, 0))::decimal(38, 9)
        end as joules,
        coalesce(counter and to_next_ms > step_seconds::bigint * 1000 * $gap_steps, false) as gap
    from thousandths
),

holders as (
    select distinct hostname, gpu, ts, namespace, pod, container, labels
    from measured
),

shared as (
    select *, count(*) over (partition by hostname, gpu, ts) as n
    from holders
),

slots as (
    select e.hostname, e.gpu, e.ts, e.joules, e.gap, h.namespace, h.pod, h.container, h.labels, h.n
    from energies as e
    left join shared as h on e.hostname = h.hostname and e.gpu = h.gpu and e.ts = h.ts
    where e.joules is not null and not e.gap
    union all
    select hostname, gpu, ts, joules, gap, null, null, null, null, 1
    from energies
    where joules is not null and gap
),

in_period as (
    select *, ts::date as charge_date
    from slots
    where strftime(ts::date, '%Y-%m') = $period
),

workloads as (
    select distinct namespace, pod from in_period
),

rule_hits as (
    select
        namespace,
        pod,
        meta.workload_model(namespace, pod) as model_id
    from workloads
),

band_hits as (
    select
        s.hostname, s.gpu, s.ts,
        b.tariff,
        row_number() over (partition by s.hostname, s.gpu, s.ts order by b.band_order) as band_rank
    from (select distinct hostname, gpu, ts from in_period) as s
    inner join _tariff_bands as b
        on hour(s.ts) >= b.start_hour and hour(s.ts) < b.end_hour and list_contains(b.weekdays, isodow(s.ts))
),

final as (
    select
        s.hostname,
        s.gpu,
        s.ts,
        s.charge_date,
        s.joules,
        s.n,
        case
            when s.gap then '__unallocated__'
            when s.pod is null then '__idle__'
            when h.model_id is null then '__unallocated__'
            else h.model_id
        end as model_id,
        case
            when s.gap then 'telemetry_gap'
            when s.pod is not null and h.model_id is null then 'unmapped_workload:' || coalesce(s.namespace, '?')
        end as unallocated_reason,
        coalesce(b.tariff, $flat_tariff::decimal(38, 10)) as tariff
    from in_period as s
    left join rule_hits as h
        on s.namespace is not distinct from h.namespace and s.pod is not distinct from h.pod
    left join band_hits as b
        on s.hostname = b.hostname and s.gpu = b.gpu and s.ts = b.ts and b.band_rank = 1
)

select * from final
