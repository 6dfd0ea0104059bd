-- The samples (by _seq) of a series at one time whose samples do not all have the same value,
-- among the samples of a telemetry file parsed in chunks ($candidates: their Parquet files).
with samples as (
    select
        _seq,
        value,
        row(
            metric, ts, hostname, gpu, uuid, gpu_model, mig_profile, mig_instance, vgpu, namespace, pod, container,
            labels
        ) as series
    from read_parquet($candidates, hive_partitioning = false)
),

conflicting as (
    select series from samples
    group by series
    having min(value) <> max(value)
)

select s._seq
from samples as s
semi join conflicting as c on s.series is not distinct from c.series
order by s._seq
