-- The raw rows of one record shape: every file raw/shape=<shape>/source=<source>/load_id=<load
-- id>/<n>.parquet of that shape, its record as JSON (to_json of the delivered columns' struct, or
-- the JSON text of a row that is one document). One branch of raw.source_rows.
select
    load_id,
    source,
    row_number,
    $record_json as record
from read_parquet('$files', hive_partitioning = true, hive_types_autocast = false)
