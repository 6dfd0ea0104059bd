-- The pass over GPU samples (pipeline/ledger/gpu_pass.py, steps 1 and 2): one row per host, bucket,
-- holder and fraction num/den of a GPU held, with the GPU-milliseconds held (`ms`) and those x the
-- holder's utilisation in basis points (`ms_util`; a slot without a utilisation sample counts as
-- fully used, 10,000). Instants are integer microseconds since the epoch (`t`).
--
-- A sample holds its GPU until the GPU's next sample when that comes within the gap rule
-- ($gap_steps x its step), else for one step. An instant whose samples all name one holder
-- (`single`, the usual case) is one slot, where the holder holds its fraction num/den of the GPU
-- (gpu_pass_holders.sql); the unheld rest of such a slot is idle (added by gpu_weights.sql). The slots of the other instants (MIG
-- slices, time-sliced pods) are in _gpu_multi (gpu_multi_holders.sql; empty until a pass finds such
-- an instant). Slots that cross a bucket boundary ($bucket_us: an hour or a day, in microseconds)
-- are cut there. The samples and their columns are written in by the code
-- (pipeline.ledger.frame.fill).
--
-- The GPUs and the holders of the samples are numbered first (`g` in _pass_gpus, `h` in
-- _pass_holders: gpu_pass_gpus.sql, gpu_pass_holders.sql), so that the grouping by instant and the window along each
-- GPU's timeline work on integers; the names join back once the slots are summed per bucket.
-- Numbers are matched as the names are, nulls equal.

with samples as (
    select $sample_columns from $samples
),

keyed as (
    select gi.g, s.t, s.step_seconds, hi.h, s.metric, s.value
    from samples as s
    inner join _pass_gpus as gi
        on s.hostname is not distinct from gi.hostname and s.gpu is not distinct from gi.gpu
    inner join _pass_holders as hi
        on s.mig_profile is not distinct from hi.mig_profile
        and s.mig_instance is not distinct from hi.mig_instance
        and s.namespace is not distinct from hi.namespace
        and s.pod is not distinct from hi.pod
        and s.container is not distinct from hi.container
        and s.labels is not distinct from hi.labels
),

-- an instant's maxima are the maxima over its samples (of its holders' maxima); it is single when
-- all its samples name one holder
instants as (
    select
        g, t, max(step_seconds)::bigint * 1000 as step_ms, min(h) as h,
        utilisation_bp(
            max(value) filter (where metric = 'DCGM_FI_PROF_GR_ENGINE_ACTIVE'),
            max(value) filter (where metric = 'DCGM_FI_DEV_GPU_UTIL')
        ) as util_bp,
        min(h) = max(h) as single
    from keyed
    group by g, t
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
    window gpu_order as (partition by g order by t)
),

-- a multi-holder instant's slots (_gpu_multi) replace it
multi as (
    select gi.g, m.* exclude (hostname, gpu)
    from _gpu_multi as m
    inner join _pass_gpus as gi
        on m.hostname is not distinct from gi.hostname and m.gpu is not distinct from gi.gpu
),

slots as (
    select
        one.g, one.t, one.ms, one.single,
        case when one.single then one.h end as h,
        multi.namespace, multi.pod, multi.container, multi.labels,
        case when one.single then one.util_bp else multi.util_bp end as util_bp,
        multi.num, multi.den
    from timed as one
    left join multi on not one.single and one.g = multi.g and one.t = multi.t
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

-- the slots per GPU, bucket and holder, then named: holders of one name whose MIG labels differ
-- are one row when their fractions are the same
summed as (
    select
        g, bucket, h, namespace, pod, container, labels, num, den, single,
        sum(piece_ms) as ms,
        sum(piece_ms * coalesce(util_bp, 10000)) as ms_util
    from cut
    group by g, bucket, h, namespace, pod, container, labels, num, den, single
),

named as (
    select
        gi.hostname, s.bucket,
        case when s.single then hi.namespace else s.namespace end as namespace,
        case when s.single then hi.pod else s.pod end as pod,
        case when s.single then hi.container else s.container end as container,
        case when s.single then hi.labels else s.labels end as labels,
        case when s.single then hi.num else s.num end as num,
        case when s.single then hi.den else s.den end as den,
        s.single, s.ms, s.ms_util
    from summed as s
    inner join _pass_gpus as gi on s.g = gi.g
    left join _pass_holders as hi on s.h = hi.h
),

final as (
    select
        hostname, bucket, namespace, pod, container, labels, num, den, single,
        sum(ms) as ms, sum(ms_util) as ms_util
    from named
    group by hostname, bucket, namespace, pod, container, labels, num, den, single
)

select * from final
