-- The pass over GPU samples (pipeline/ledger/gpu_pass.py, steps 1 and 2): one row per host, bucket,
-- holder and fraction num/den of a GPU held, with the GPU-milliseconds held (`ms`) and those x the
-- holder's utilisation in basis points (`ms_util`; a slot without a utilisation sample counts as
-- fully used, 10,000). Instants are integer microseconds since the epoch (`t`).
--
-- A sample holds its GPU until the GPU's next sample when that comes within the gap rule
-- ($gap_steps x its step), else for one step. An instant's samples are grouped by holder first: an
-- instant whose samples all name one holder (`single`, the usual case) is one slot, where a MIG
-- profile holds its slices of $mig_slices, a pod on a whole GPU all of it, or 1/replicas when
-- replicas are declared ($replicas); the unheld rest of such a slot is idle (added by
-- gpu_weights.sql). The slots of the other instants (MIG slices, time-sliced pods) are in
-- _gpu_multi (gpu_multi_holders.sql; empty until a pass finds such an instant). Slots that cross a
-- bucket boundary ($bucket_us: an hour or a day, in microseconds) are cut there. The samples and
-- their columns are written in by the code (pipeline.ledger.frame.fill).

with samples as (
    select $sample_columns from $samples
),

holders as (
    select
        hostname, gpu, t, max(step_seconds) as step_seconds,
        mig_profile, mig_instance, namespace, pod, container, labels,
        max(value) filter (where metric = 'DCGM_FI_PROF_GR_ENGINE_ACTIVE') as active_ratio,
        max(value) filter (where metric = 'DCGM_FI_DEV_GPU_UTIL') as util_percent
    from samples
    group by hostname, gpu, t, mig_profile, mig_instance, namespace, pod, container, labels
),

-- the maximum of the holders' maxima is the instant's maximum
instants as (
    select
        hostname, gpu, t, max(step_seconds)::bigint * 1000 as step_ms,
        any_value(mig_profile) as mig_profile, any_value(mig_instance) as mig_instance,
        any_value(namespace) as namespace,
        any_value(pod) as pod, any_value(container) as container, any_value(labels) as labels,
        utilisation_bp(max(active_ratio), max(util_percent)) as util_bp, count(*) = 1 as single
    from holders
    group by hostname, gpu, t
),

timed as (
    select
        * exclude (step_ms),
        coalesce(
            case
                when (lead(t) over gpu_order - t) // 1000 <= step_ms * $gap_steps
                    then (lead(t) over gpu_order - t) // 1000
            end,
            step_ms
        ) as ms
    from instants
    window gpu_order as (partition by hostname, gpu order by t)
),

single_slots as (
    select
        hostname, gpu, t, ms, namespace, pod, container, labels, util_bp, single,
        case when mig_profile is not null or mig_instance is not null then mig_slices_held(mig_profile) else 1 end
            as num,
        case
            when mig_profile is not null or mig_instance is not null then $mig_slices
            when pod is null then 1
            else greatest(1, $replicas)
        end as den
    from timed
),

-- a multi-holder instant's slots (_gpu_multi) replace it
slots as (
    select
        one.hostname, one.gpu, one.t, one.ms,
        case when one.single then one.namespace else multi.namespace end as namespace,
        case when one.single then one.pod else multi.pod end as pod,
        case when one.single then one.container else multi.container end as container,
        case when one.single then one.labels else multi.labels end as labels,
        case when one.single then one.util_bp else multi.util_bp end as util_bp,
        one.single,
        case when one.single then one.num else multi.num end as num,
        case when one.single then one.den else multi.den end as den
    from single_slots as one
    left join _gpu_multi as multi
        on not one.single and one.hostname = multi.hostname and one.gpu = multi.gpu and one.t = multi.t
),

bounded as (
    select *, t // $bucket_us * $bucket_us as first_bucket, t + ms * 1000 as slot_end
    from slots
),

pieces as (
    select
        *,
        unnest(
            case
                when slot_end <= first_bucket + $bucket_us then [first_bucket]
                else generate_series(first_bucket, (t + (ms - 1) * 1000) // $bucket_us * $bucket_us, $bucket_us)
            end
        ) as bucket
    from bounded
),

cut as (
    select *, (least(slot_end, bucket + $bucket_us) - greatest(t, bucket)) // 1000 as piece_ms
    from pieces
),

final as (
    select
        hostname, bucket, namespace, pod, container, labels, num, den, single,
        sum(piece_ms) as ms,
        sum(piece_ms * coalesce(util_bp, 10000)) as ms_util
    from cut
    group by hostname, bucket, namespace, pod, container, labels, num, den, single
)

select * from final
