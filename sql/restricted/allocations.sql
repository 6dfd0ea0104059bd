-- restricted/hr.duckdb (owner-only, never the shared warehouse): Percent of a person's month given to a model (HR allocations file).
create table if not exists allocations (
    load_id     varchar,
    row_number  bigint,
    month       varchar,
    person      varchar,
    model_id    varchar,
    percent     decimal(38, 9)
);
