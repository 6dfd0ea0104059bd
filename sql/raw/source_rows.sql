-- The raw layer: every delivered row, kept as Parquet files under <workspace>/raw/ (one folder per
-- file version and record shape, see pipeline/ingest/raw_store.py) and read through this view. This
-- empty definition stands until the first file loads; the writer then defines the view over the
-- files (sql/warehouse/raw_rows_view.sql) and applies the comments below again.
create view if not exists raw.source_rows as
select
    null::varchar as load_id,
    null::varchar as source,
    null::bigint as row_number,
    null::json as record
where false;
comment on view raw.source_rows is 'One row per input row as delivered (for JSON telemetry, one row per series), every value kept as text, read from the Parquet files under <workspace>/raw/ (query from the workspace folder, or through costledger sql). Rows of superseded file versions stay here. HR rows never land here: they live in the restricted database.';
comment on column raw.source_rows.load_id is 'The file version it came from (meta.loads.load_id: path, checksum, batch).';
comment on column raw.source_rows.source is 'Input family (billing, telemetry, ...).';
comment on column raw.source_rows.row_number is 'Row number in the file, 1 = first data row after the header.';
comment on column raw.source_rows.record is 'The row as a JSON object of column name to the text delivered (null for an empty cell).';
