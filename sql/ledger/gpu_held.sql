create table if not exists ledger.gpu_held (
    key         varchar not null,
    hostname    varchar not null,
    bucket      bigint not null,
    namespace   varchar,
    pod         varchar,
    container   varchar,
    labels      varchar,
    num         bigint,
    den         bigint,
    single      boolean,
    ms          hugeint,
    ms_util     hugeint
);
comment on table ledger.gpu_held is 'GPU time held per GPU-pool host, hour, holder and fraction (the hourly pass over the telemetry, before the pool policy), kept so that a nightly build passes over new samples only. Rebuildable: deleting rows only makes the next build slower.';
comment on column ledger.gpu_held.key is 'Digest of the recipe (config, rules, allocation code), pool and sample window the rows were made for; rows of another key are never used.';
comment on column ledger.gpu_held.hostname is 'The pool node (its telemetry host).';
comment on column ledger.gpu_held.bucket is 'Start of the hour, microseconds since 1970-01-01 UTC.';
comment on column ledger.gpu_held.namespace is 'Holder: Kubernetes namespace (null: no pod, idle).';
comment on column ledger.gpu_held.pod is 'Holder: pod.';
comment on column ledger.gpu_held.container is 'Holder: container.';
comment on column ledger.gpu_held.labels is 'Holder: extra labels the workload rules may match.';
comment on column ledger.gpu_held.num is 'Fraction of the GPU held: numerator.';
comment on column ledger.gpu_held.den is 'Fraction of the GPU held: denominator.';
comment on column ledger.gpu_held.single is 'True when every sample of the instant named one holder (its unheld rest is idle).';
comment on column ledger.gpu_held.ms is 'GPU-milliseconds held in the hour.';
comment on column ledger.gpu_held.ms_util is 'GPU-milliseconds x utilisation (basis points) held in the hour.';
