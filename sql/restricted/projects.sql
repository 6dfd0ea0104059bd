-- restricted/hr.duckdb (owner-only, never the shared warehouse): The model a timesheet project works for.
create table if not exists projects (
    load_id     varchar,
    row_number  bigint,
    project     varchar,
    model_id    varchar
);
