-- restricted/hr.duckdb (owner-only, never the shared warehouse): Labor per month, model and cell (person-days x standard rate), published or withheld.
create table if not exists labor_cells (
    month        varchar,
    model_id     varchar,
    currency     varchar,
    role_group   varchar,
    cell         varchar,
    status       varchar,
    headcount    integer,
    person_days  decimal(38, 18),
    cost         decimal(38, 18)
);
