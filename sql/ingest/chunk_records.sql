-- The records of one staged chunk's raw rows whose hash repeats in the file, as JSON text, kept
-- for the exact comparison of duplicate_records.sql.
insert into records
select
    row_number,
    to_json(record)::varchar
from read_parquet($raw, hive_partitioning = false)
where row_number in (select c.row_number from candidates as c)
