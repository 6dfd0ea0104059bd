-- The samples (by _seq) that repeat an earlier sample of their series at one time, among the
-- samples of a telemetry file parsed in chunks ($candidates) whose row was not rejected
-- ($rejects): each is folded into the first.
with bad as (
    select distinct row_number from read_parquet($rejects, hive_partitioning = false)
),

samples as (
    select
        c._seq,
        row(
            c.metric, c.ts, c.hostname, c.gpu, c.uuid, c.gpu_model, c.mig_profile, c.mig_instance, c.vgpu,
            c.namespace, c.pod, c.container, c.labels
        ) as series
    from read_parquet($candidates, hive_partitioning = false) as c
    anti join bad as b on c.row_number = b.row_number
),

firsts as (
    select
        series,
        min(_seq) as first_seq
    from samples
    group by series
    having count(*) > 1
)

select s._seq
from samples as s
inner join firsts as f on s.series is not distinct from f.series
where s._seq <> f.first_seq
order by s._seq
