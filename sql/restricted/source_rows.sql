-- restricted/hr.duckdb (owner-only, never the shared warehouse): Every HR row as delivered, for lineage (never in the shared warehouse).
create table if not exists source_rows (
    load_id     varchar,
    row_number  bigint,
    record      json
);
