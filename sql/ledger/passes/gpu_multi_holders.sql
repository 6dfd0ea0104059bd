-- sqlfluff:ignore:parsing
-- (sqlfluff cannot parse DuckDB's lambda in list_reduce below; the parsable rest of the file is linted)
-- The slots of the instants of a GPU (or of one MIG slice) held by several holders at once, for
-- _gpu_multi (gpu_pass.sql): n pods sharing a GPU or a slice hold 1/n of it each (1/replicas when
-- more replicas are declared, $replicas); a MIG profile holds its slices of $mig_slices. An idle
-- row beside holders of the same GPU (or slice) adds nothing, nor does a GPU-level row (no MIG
-- labels, no pod) beside the GPU's MIG slices; the unheld rest of the instant (1 - the fractions
-- held) is an idle slot. The samples and their columns are written in by the code
-- (pipeline.ledger.frame.fill), as for gpu_pass.sql.

with samples as (
    select $sample_columns from $samples
),

-- an instant is single-holder when each holder column is absent from its samples, or the same on all
multi as (
    select hostname, gpu, t
    from samples
    group by hostname, gpu, t
    having not (
        (count(mig_profile) = 0 or (count(mig_profile) = count(*) and min(mig_profile) = max(mig_profile)))
        and (count(mig_instance) = 0 or (count(mig_instance) = count(*) and min(mig_instance) = max(mig_instance)))
        and (count(namespace) = 0 or (count(namespace) = count(*) and min(namespace) = max(namespace)))
        and (count(pod) = 0 or (count(pod) = count(*) and min(pod) = max(pod)))
        and (count(container) = 0 or (count(container) = count(*) and min(container) = max(container)))
        and (count(labels) = 0 or (count(labels) = count(*) and min(labels) = max(labels)))
    )
),

slots as (
    select
        hostname, gpu, t, mig_profile, mig_instance, namespace, pod, container, labels,
        utilisation_bp(
            max(value) filter (where metric = 'DCGM_FI_PROF_GR_ENGINE_ACTIVE'),
            max(value) filter (where metric = 'DCGM_FI_DEV_GPU_UTIL')
        ) as util_bp
    from samples as s
    semi join multi as m on s.hostname = m.hostname and s.gpu = m.gpu and s.t = m.t
    group by hostname, gpu, t, mig_profile, mig_instance, namespace, pod, container, labels
),

shared as (
    select
        *,
        (mig_profile is not null or mig_instance is not null) as is_mig,
        bool_or(mig_profile is not null or mig_instance is not null)
            over (partition by hostname, gpu, t) as mig_instant,
        count(pod) over (partition by hostname, gpu, t, mig_instance) as pods
    from slots
),

held as (
    select
        hostname, gpu, t, namespace, pod, container, labels, util_bp,
        case when is_mig then mig_slices_held(mig_profile) else 1 end as num,
        (case when is_mig then $mig_slices else 1 end)
        * (case when pod is null then 1 when is_mig then pods else greatest(pods, $replicas) end) as den
    from shared
    where (pod is not null or pods = 0) and (is_mig or pod is not null or not mig_instant)
),

-- the least common multiple of an instant's denominators: its fractions in whole parts
common_denominators as (
    select hostname, gpu, t, list_reduce(list(den), lambda a, b: lcm(a, b)) as parts
    from held
    group by hostname, gpu, t
),

rest as (
    select h.hostname, h.gpu, h.t, any_value(d.parts) as parts, sum(h.num * (d.parts // h.den))::bigint as used
    from held as h
    inner join common_denominators as d on h.hostname = d.hostname and h.gpu = d.gpu and h.t = d.t
    group by h.hostname, h.gpu, h.t
),

final as (
    select * from held
    union all
    select hostname, gpu, t, null, null, null, null, null, parts - used, parts
    from rest
    where used < parts
)

select * from final
