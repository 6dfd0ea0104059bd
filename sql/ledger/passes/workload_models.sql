-- One row per workload (_workloads: namespace, pod) that a workload rule maps: its model, from the
-- first rule (meta.workload_rules) whose namespace and pod patterns match in full (RE2), as
-- gpu_weights.sql maps them. A rule with a phase names its holder `<model>~<phase>`.

with ranked as (
    select
        w.namespace,
        w.pod,
        r.model_id || coalesce('~' || r.phase, '') as model_id,
        row_number() over (partition by w.namespace, w.pod order by r.rule_order) as rule_rank
    from _workloads as w
    inner join meta.workload_rules as r
        on w.namespace is not null
        and regexp_full_match(w.namespace, r.namespace_pattern)
        and regexp_full_match(coalesce(w.pod, ''), r.pod_pattern)
),

final as (
    select namespace, pod, model_id as workload_model
    from ranked
    where rule_rank = 1
)

select * from final
