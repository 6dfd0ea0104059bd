-- One row per input file loaded (status 'loaded') whose rows fall in the period, or that dates
-- no period, and per file rejected for its bad rows that no later delivery at its path replaced:
-- the counts meta.loads claims against the rows actually in raw, staging and meta.quarantine
-- (nothing is lost: a rejected file has every row in meta.quarantine and none elsewhere).
-- The staged rows are the union of every staging table with load_id and row_number, read from the catalog
-- (see load_balance_sql). $since and $source_days (a validation checks again what changed since
-- the period last passed): only the files loaded since then, those a later export restated rows
-- of since then, and those with rows on the days whose delivered rows changed ($source_days;
-- samples: $gpu_days), in the candidate or as last published (a row that went is found there)
-- (null: every file).
with day_loads as (
    select regexp_extract(source_ref, '^(.*):[0-9]+$', 1) as load_id
    from (
        select charge_date, source_ref from ledger.cost_ledger_candidate
        where billing_period = $period and source = 'billing'
        union all
        select charge_date, source_ref from ledger.cost_ledger
        where billing_period = $period and source = 'billing'
    )
    where list_contains($source_days::date[], charge_date)
    union
    select load_id from staging.gpu_samples
    where $gpu_days::date[] is not null and $gpu_samples_checked  -- the samples of those days (samples_checked)
    union
    select load_id from staging.usage
    where list_contains($source_days::date[], usage_date)
),

loads as (
    select load_id, source, path, detected_format, rows_in, rows_loaded, rows_quarantined, status
    from meta.loads as l
    where
        ($period is null or list_contains(periods, $period) or len(periods) = 0)
        and (
            $since::timestamp is null or loaded_at >= $since::timestamp
            or load_id in (select load_id from meta.replaced_rows where replaced_at >= $since::timestamp)
            or load_id in (select load_id from day_loads)
        )
        and (
            status = 'loaded'
            or status = 'rejected' and rows_in > 0 and not exists (
                select 1 from meta.loads as later
                where later.source = l.source and later.path = l.path and later.loaded_at > l.loaded_at
            )
        )
),

raw_rows as (
    select load_id, count(*) as raw_rows
    from raw.source_rows
    where load_id in (select load_id from loads)
    group by load_id
),

staged as not materialized (  -- read twice below: inlined, never held (tens of millions of rows)
    $staged
),

-- distinct rows per staging table (a file loads into one), summed: one distinct over the union
-- of every table would hold tens of millions of pairs at once
staged_rows as (
    select load_id, sum(rows)::bigint as staged_rows
    from ($staged_counts)
    where load_id in (select load_id from loads)
    group by load_id
),

quarantined as (
    select load_id, count(distinct row_number) as quarantined_rows
    from meta.quarantine
    where load_id in (select load_id from loads)
    group by load_id
),

-- rows a later export of their account replaced (meta.replaced_rows): loaded, then restated
replaced as (
    select load_id, count(distinct row_number) as replaced_rows
    from meta.replaced_rows
    where load_id in (select load_id from loads)
    group by load_id
),

overlap as (
    select s.load_id, count(distinct s.row_number) as both_rows
    from staged as s
    semi join meta.quarantine as q
        on q.load_id = s.load_id and q.row_number = s.row_number
    group by s.load_id
),

counted as (
    select
        l.*,
        coalesce(r.raw_rows, 0) as raw_rows,
        coalesce(s.staged_rows, 0) as staged_rows,
        coalesce(q.quarantined_rows, 0) as quarantined_rows,
        coalesce(o.both_rows, 0) as both_rows,
        coalesce(x.replaced_rows, 0) as replaced_rows
    from loads as l
    -- using, not on (sqlfluff ST07 is off for these lines): the result keeps one load_id column
    left join raw_rows as r using (load_id)  -- noqa: ST07
    left join staged_rows as s using (load_id)  -- noqa: ST07
    left join quarantined as q using (load_id)  -- noqa: ST07
    left join overlap as o using (load_id)  -- noqa: ST07
    left join replaced as x using (load_id)  -- noqa: ST07
),

final as (
    select
        load_id,
        path,
        rows_in,
        rows_loaded,
        rows_quarantined,
        raw_rows,
        staged_rows,
        quarantined_rows,
        rows_in = rows_loaded + rows_quarantined
        and (
            status = 'rejected' and rows_loaded = 0 and raw_rows = 0 and staged_rows = 0
            and quarantined_rows = rows_quarantined
            or status = 'loaded' and source = 'labor'  -- HR rows live only in the restricted database
            or status = 'loaded' and (
                raw_rows = rows_in
                and quarantined_rows = rows_quarantined
                and both_rows = 0
                -- a telemetry series of "not supported" sentinels loads no sample
                and (staged_rows + replaced_rows = rows_loaded or (source = 'telemetry' and staged_rows <= rows_loaded))
            )
        ) as balanced,
        rows_quarantined = 0 as clean
    from counted
)

select * from final
order by path, load_id
