create table if not exists staging.gpu_samples (
    load_id        varchar not null,
    row_number     bigint not null,
    metric         varchar not null,
    ts             timestamp not null,
    step_seconds   integer not null,
    hostname       varchar not null,
    gpu            varchar not null,
    uuid           varchar,
    gpu_model      varchar,
    namespace      varchar,
    pod            varchar,
    container      varchar,
    value          decimal(38, 9) not null
);
comment on table staging.gpu_samples is 'One row per GPU, metric and sample time, from dcgm-exporter telemetry. A sample at ts stands for the interval [ts, ts + step_seconds).';
comment on column staging.gpu_samples.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.gpu_samples.row_number is 'Series number in the file (raw.source_rows.row_number).';
comment on column staging.gpu_samples.metric is 'dcgm-exporter field, e.g. DCGM_FI_DEV_GPU_UTIL (percent) or DCGM_FI_DEV_POWER_USAGE (watts).';
comment on column staging.gpu_samples.ts is 'Sample time (UTC).';
comment on column staging.gpu_samples.step_seconds is 'Interval the sample stands for: the series step.';
comment on column staging.gpu_samples.hostname is 'Node host name (label Hostname or hostname).';
comment on column staging.gpu_samples.gpu is 'GPU index on the node (label gpu).';
comment on column staging.gpu_samples.uuid is 'GPU UUID (label UUID).';
comment on column staging.gpu_samples.gpu_model is 'GPU product name (label modelName).';
comment on column staging.gpu_samples.namespace is 'Kubernetes namespace of the workload holding the GPU (namespace or exported_namespace); null when no workload held it.';
comment on column staging.gpu_samples.pod is 'Pod holding the GPU; null when idle.';
comment on column staging.gpu_samples.container is 'Container holding the GPU.';
comment on column staging.gpu_samples.value is 'Sample value, exact as delivered.';
