create or replace view marts.telemetry_gaps as
with settings as (
    select coalesce((select max(telemetry_gap_steps) from meta.telemetry_settings), 2) as gap_steps
),

instants as (
    select hostname, gpu, ts, max(step_seconds) as step_seconds
    from staging.gpu_samples
    group by hostname, gpu, ts
),

timeline as (
    select *, lead(ts) over (partition by hostname, gpu order by ts) as next_ts
    from instants
),

final as (
    select
        t.hostname,
        t.gpu,
        t.ts + to_seconds(t.step_seconds) as gap_start,
        t.next_ts as gap_end,
        ((epoch_us(t.next_ts) - epoch_us(t.ts) - t.step_seconds * 1000000) / 1000000)::decimal(18, 6) as gap_seconds
    from timeline as t, settings as s
    where
        t.next_ts is not null
        and (epoch_us(t.next_ts) - epoch_us(t.ts)) // 1000 > t.step_seconds::bigint * 1000 * s.gap_steps
)

select * from final;
comment on view marts.telemetry_gaps is 'One row per telemetry gap: a silence between two samples of the same GPU longer than telemetry_gap_steps x the step. The last sample before it holds the GPU one step; the rest, gap_start to gap_end, is GPU time no telemetry covers (in the ledger: __unallocated__, reason telemetry_gap). Time before a GPU''s first or after its last sample is not listed.';
comment on column marts.telemetry_gaps.hostname is 'Node host name.';
comment on column marts.telemetry_gaps.gpu is 'GPU index on the node.';
comment on column marts.telemetry_gaps.gap_start is 'Start of the gap (UTC): the last sample before it plus one step.';
comment on column marts.telemetry_gaps.gap_end is 'End of the gap (UTC): the next sample of that GPU.';
comment on column marts.telemetry_gaps.gap_seconds is 'Length of the gap, seconds.';
