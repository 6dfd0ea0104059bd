create or replace view staging.gpu_usage as
with samples as (
    select * from staging.gpu_samples
),

final as (
    select
        hostname,
        gpu,
        any_value(uuid) as uuid,
        ts as interval_start,
        any_value(step_seconds) as interval_seconds,
        namespace,
        pod,
        container,
        max(value) filter (where metric = 'DCGM_FI_DEV_GPU_UTIL') as gpu_util_percent,
        max(value) filter (where metric = 'DCGM_FI_DEV_POWER_USAGE') as power_watts
    from samples
    group by hostname, gpu, ts, namespace, pod, container
)

select * from final;
comment on view staging.gpu_usage is 'One row per GPU per interval (and per workload holding it): utilisation and power side by side.';
comment on column staging.gpu_usage.hostname is 'Node host name.';
comment on column staging.gpu_usage.gpu is 'GPU index on the node.';
comment on column staging.gpu_usage.uuid is 'GPU UUID.';
comment on column staging.gpu_usage.interval_start is 'Interval start (UTC).';
comment on column staging.gpu_usage.interval_seconds is 'Interval length in seconds.';
comment on column staging.gpu_usage.namespace is 'Namespace of the workload holding the GPU; null when idle.';
comment on column staging.gpu_usage.pod is 'Pod holding the GPU; null when idle.';
comment on column staging.gpu_usage.container is 'Container holding the GPU.';
comment on column staging.gpu_usage.gpu_util_percent is 'DCGM_FI_DEV_GPU_UTIL, percent.';
comment on column staging.gpu_usage.power_watts is 'DCGM_FI_DEV_POWER_USAGE, watts.';
