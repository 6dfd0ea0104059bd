-- restricted/hr.duckdb (owner-only, never the shared warehouse): One row per person of an HR people file: role, cost centre, fully loaded monthly cost and employment dates.
create table if not exists people (
    load_id       varchar,
    row_number    bigint,
    person        varchar,
    role          varchar,
    cost_centre   varchar,
    monthly_cost  decimal(38, 18),
    currency      varchar,
    start_date    date,
    end_date      date
);
