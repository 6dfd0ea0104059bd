create table if not exists meta.workload_rules (
    rule_order         integer not null,
    namespace_pattern  varchar not null,
    pod_pattern        varchar not null,
    model_id           varchar not null
);
comment on table meta.workload_rules is 'One row per [[workloads]] rule of the configuration the last ledger build ran with: which GPU workload belongs to which model (the first rule that matches wins). Lets SQL map telemetry samples to models, as the ledger does.';
comment on column meta.workload_rules.rule_order is 'Position of the rule in the configuration (1 = first); the first matching rule wins.';
comment on column meta.workload_rules.namespace_pattern is 'Kubernetes namespace, a regular expression matched in full.';
comment on column meta.workload_rules.pod_pattern is 'Pod name, a regular expression matched in full.';
comment on column meta.workload_rules.model_id is 'The registered model the workload belongs to.';
alter table meta.workload_rules add column if not exists phase varchar;
comment on column meta.workload_rules.phase is 'Lifecycle phase of the workload''s GPU time (training, fine_tuning, inference, experimentation, data_preparation, shared); null: the default phase of the row''s source (meta.phase_defaults).';
-- The model of a GPU workload (Kubernetes namespace and pod) by the first rule that matches; null
-- when none does. A rule's phase rides with its model as `model~phase` through the GPU splits
-- (ledger_rows.sql takes it apart). The macro's parameters cannot be qualified:
-- noqa: disable=RF03
create or replace macro meta.workload_model(workload_namespace, workload_pod) as (
    select arg_min(r.model_id || coalesce('~' || r.phase, ''), r.rule_order)
    from meta.workload_rules as r
    where
        workload_namespace is not null
        and regexp_full_match(workload_namespace, r.namespace_pattern)
        and regexp_full_match(coalesce(workload_pod, ''), r.pod_pattern)
);
-- noqa: enable=RF03
