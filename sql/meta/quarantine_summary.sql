create or replace view meta.quarantine_summary as
with reasons as (
    select
        load_id,
        "column",
        reason,
        count(distinct row_number) as row_count
    from meta.quarantine
    group by load_id, "column", reason
),

ranked as (
    select
        *,
        row_number() over (partition by load_id order by row_count desc, "column" nulls last, reason) as reason_rank
    from reasons
),

top_reasons as (
    select
        load_id,
        string_agg(
            coalesce("column" || ': ', '') || reason || ' (' || row_count || ' row'
            || case when row_count = 1 then '' else 's' end || ')',
            '; ' order by reason_rank
        ) as top_reasons
    from ranked
    where reason_rank <= 3
    group by load_id
),

final as (
    select
        l.load_id,
        l.source,
        l.path,
        l.status,
        l.detected_format,
        l.rows_in,
        l.rows_loaded,
        l.rows_quarantined,
        t.top_reasons,
        l.message,
        l.loaded_at
    from meta.loads as l
    left join top_reasons as t on t.load_id = l.load_id
    where l.status not in ('loaded', 'superseded') or l.rows_quarantined > 0
)

select * from final;
comment on view meta.quarantine_summary is 'One row per input file version with quarantined rows or that was rejected: what the run prints after loading it, and what fails the nightly data-quality task.';
comment on column meta.quarantine_summary.load_id is 'The load (meta.loads.load_id).';
comment on column meta.quarantine_summary.source is 'Input family: billing, telemetry, labor, ...';
comment on column meta.quarantine_summary.path is 'File path relative to the workspace inbox.';
comment on column meta.quarantine_summary.status is 'loaded (some rows quarantined), superseded, or rejected (nothing loaded).';
comment on column meta.quarantine_summary.detected_format is 'Format detected from the content; null when the file could not be read.';
comment on column meta.quarantine_summary.rows_in is 'Data rows found in the file.';
comment on column meta.quarantine_summary.rows_loaded is 'Rows that reached staging.';
comment on column meta.quarantine_summary.rows_quarantined is 'Rows kept in meta.quarantine instead.';
comment on column meta.quarantine_summary.top_reasons is 'The three most frequent reasons of its quarantined rows, most rows first: `column: reason (n rows)`, separated by `; `.';
comment on column meta.quarantine_summary.message is 'meta.loads.message: for a rejected file, why.';
comment on column meta.quarantine_summary.loaded_at is 'When the file was loaded or rejected (UTC).';
