-- restricted/hr.duckdb (owner-only, never the shared warehouse): Hours a person booked to a project on a day (HR timesheets file).
create table if not exists timesheets (
    load_id     varchar,
    row_number  bigint,
    date        date,
    person      varchar,
    project     varchar,
    hours       decimal(38, 9)
);
