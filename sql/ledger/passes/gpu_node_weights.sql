-- One row per GPU-pool node row (_gpu_rows) and model or bucket: the integer weight the row's cost
-- is split by, and the GPU-milliseconds x S held (gpu_units): the GPU time held in the hours of the
-- row's charge period (_gpu_weights, gpu_weights.sql), and the capacity (GPUs x milliseconds x S)
-- no sample covers as __unallocated__ (telemetry_gap), weighed like held time (x per_unit).

with node_rows as (
    select * from _gpu_rows
),

hours as (
    select
        source_ref, pool, hostname, epoch_us(unnest(generate_series(
            date_trunc('hour', ChargePeriodStart), ChargePeriodEnd - interval 1 microsecond, interval 1 hour
        ))) as bucket
    from node_rows
),

held as (
    select h.source_ref, w.model_id, w.unallocated_reason, sum(w.w) as w, sum(w.gpu_units) as gpu_units
    from hours as h
    inner join _gpu_weights as w
        on h.pool = w.pool and h.hostname = w.hostname and h.bucket = w.bucket
    group by h.source_ref, w.model_id, w.unallocated_reason
),

seen as (
    select source_ref, sum(gpu_units) as gpu_units
    from held
    group by source_ref
),

capacity as (
    select
        r.source_ref,
        greatest(
            (epoch_us(r.ChargePeriodEnd) - epoch_us(r.ChargePeriodStart))
            // 1000 * r.gpus * s.slices
            - coalesce(seen.gpu_units, 0),
            0
        ) as gap,
        s.per_unit
    from node_rows as r
    inner join _gpu_slices as s on r.pool = s.pool
    left join seen on r.source_ref = seen.source_ref
),

weights as (
    select source_ref, model_id, unallocated_reason, w, gpu_units from held
    union all
    select source_ref, '__unallocated__', 'telemetry_gap', gap * per_unit, gap
    from capacity
    where gap > 0
),

final as (
    select * from weights
)

select * from final
