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
    mig_profile    varchar,
    mig_instance   varchar,
    vgpu           varchar,
    namespace      varchar,
    pod            varchar,
    container      varchar,
    labels         varchar,
    value          decimal(38, 9) not null
);
-- warehouses created before these columns existed
alter table staging.gpu_samples add column if not exists mig_profile varchar;
alter table staging.gpu_samples add column if not exists mig_instance varchar;
alter table staging.gpu_samples add column if not exists vgpu varchar;
alter table staging.gpu_samples add column if not exists labels varchar;
comment on table staging.gpu_samples is 'One row per GPU, metric and sample time, from dcgm-exporter telemetry. A sample at ts holds its GPU until the next sample of that GPU, up to telemetry_gap_steps x step_seconds; a longer silence is a telemetry gap (pipeline/ledger/gpu.py).';
comment on column staging.gpu_samples.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.gpu_samples.row_number is 'Series number in the file (raw.source_rows.row_number).';
comment on column staging.gpu_samples.metric is 'dcgm-exporter field, e.g. DCGM_FI_DEV_GPU_UTIL (percent) or DCGM_FI_DEV_POWER_USAGE (watts).';
comment on column staging.gpu_samples.ts is 'Sample time (UTC).';
comment on column staging.gpu_samples.step_seconds is 'Interval the sample stands for: the series step.';
comment on column staging.gpu_samples.hostname is 'Node host name (label Hostname or hostname).';
comment on column staging.gpu_samples.gpu is 'GPU index on the node (label gpu).';
comment on column staging.gpu_samples.uuid is 'GPU UUID (label UUID).';
comment on column staging.gpu_samples.gpu_model is 'GPU product name (label modelName).';
comment on column staging.gpu_samples.mig_profile is 'MIG GPU instance profile (label GPU_I_PROFILE, e.g. 3g.40gb); null on a whole GPU. The slice holds N of the pool''s mig_slices compute slices.';
comment on column staging.gpu_samples.mig_instance is 'MIG GPU instance id (label GPU_I_ID); null on a whole GPU.';
comment on column staging.gpu_samples.vgpu is 'vGPU id (label vgpu); null when not virtualised.';
comment on column staging.gpu_samples.labels is 'Other labels of the workload series (e.g. pod labels), JSON object text; null when none.';
comment on column staging.gpu_samples.namespace is 'Kubernetes namespace of the workload holding the GPU (exported_namespace when Prometheus relabelled, else namespace; never the dcgm-exporter pod itself); null when no workload held it.';
comment on column staging.gpu_samples.pod is 'Pod holding the GPU; null when idle.';
comment on column staging.gpu_samples.container is 'Container holding the GPU.';
comment on column staging.gpu_samples.value is 'Sample value, exact as delivered.';
