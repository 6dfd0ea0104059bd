-- One row per GPU pool (or the owned servers), host, bucket, model and reason: the integer weights
-- that split the host's cost in the bucket (pipeline/ledger/gpu.py, step 3 and 4), from the pass
-- over the telemetry (_gpu_held: GPU-milliseconds held per holder and fraction num/den) and the
-- pools' policies (_gpu_slices, gpu_slices.sql): a fraction num/den of a GPU is S x num / den
-- whole units. `gpu_units` = GPU-milliseconds x S; `w` = gpu_units (gpu_time), or held
-- GPU-milliseconds x S x utilisation in basis points (utilisation; the unused rest is idle).
-- Workloads map to models by the first workload rule (meta.workload_rules) whose namespace and
-- pod patterns match in full: no pod is __idle__, no rule __unallocated__ (unmapped_workload:<ns>).
-- A rule with a phase names its holder `<model>~<phase>` (the split keeps phases apart).

with held as (
    select * from _gpu_held
),

-- the unheld rest of a single-holder instant (an unused MIG slice, unused replicas) is idle
frame as (
    select pool, hostname, bucket, namespace, pod, container, labels, num, den, ms, ms_util
    from held
    union all
    select pool, hostname, bucket, null, null, null, null, den - num, den, ms, ms_util
    from held
    where single and num < den
),

based as (
    select f.*, s.policy, s.slices * f.num // f.den * f.ms as base, s.slices * f.num // f.den as units
    from frame as f
    inner join _gpu_slices as s on f.pool = s.pool
),

weighed as (
    select pool, hostname, bucket, namespace, pod, container, labels, base as w, base as gpu_units
    from based
    where policy <> 'utilisation'
    union all
    select pool, hostname, bucket, namespace, pod, container, labels, units * ms_util, base
    from based
    where policy = 'utilisation' and pod is not null
    union all
    select pool, hostname, bucket, null, null, null, null, w, gpu_units
    from (
        select
            pool, hostname, bucket,
            case when pod is null then base * 10000 else units * (ms * 10000 - ms_util) end as w,
            case when pod is null then base else 0 end as gpu_units
        from based
        where policy = 'utilisation'
    ) as unused
    where w > 0 or gpu_units > 0
),

workloads as (
    select distinct namespace, pod from weighed
),

rule_hits as (
    select
        namespace,
        pod,
        meta.workload_model(namespace, pod) as model_id
    from workloads
),

labelled as (
    select
        w.pool,
        w.hostname,
        w.bucket,
        case when w.pod is null then '__idle__' when h.model_id is null then '__unallocated__' else h.model_id end
            as model_id,
        case when w.pod is not null and h.model_id is null then 'unmapped_workload:' || coalesce(w.namespace, '?') end
            as unallocated_reason,
        w.w,
        w.gpu_units
    from weighed as w
    left join rule_hits as h
        on w.namespace is not distinct from h.namespace and w.pod is not distinct from h.pod
),

final as (
    select
        l.pool,
        l.hostname,
        l.bucket,
        l.model_id,
        l.unallocated_reason,
        sum(l.w)::hugeint as w,
        sum(l.gpu_units)::hugeint as gpu_units
    from labelled as l
    group by l.pool, l.hostname, l.bucket, l.model_id, l.unallocated_reason
)

select * from final
