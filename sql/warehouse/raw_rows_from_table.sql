-- An older warehouse's raw rows (a table holding each row's JSON object) written out as the raw
-- layer's files of shape json: one folder per source and file version, the record as JSON text.
copy (
    select
        source,
        load_id,
        row_number,
        record::varchar as record
    from raw.source_rows
    order by load_id, row_number
) to '$folder' (format parquet, partition_by (source, load_id), overwrite_or_ignore true)
