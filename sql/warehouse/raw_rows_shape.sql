-- The raw rows of one record shape: every file raw/shape=<shape>/source=<source>/load_id=<load
-- id>/<n>.parquet of that shape, its record as JSON (to_json of the delivered columns' struct, or
-- the JSON text of a row that is one document). One branch of raw.source_rows. The files are
-- read in the workspace folder: its full path is the connection's variable $workspace, which
-- pipeline.warehouse sets; without it (a plain DuckDB session), the current directory.
select
    load_id,
    source,
    row_number,
    $record_json as record
from
    read_parquet(
        coalesce(getvariable('$workspace'), '.') || '/$files',
        hive_partitioning = true,
        hive_types_autocast = false
    )
