-- restricted/hr.duckdb (owner-only, never the shared warehouse): Standard rate per person-day of a rate group and rate period, the mean of at least k people.
create table if not exists labor_rates (
    rate_period  varchar,
    currency     varchar,
    role_group   varchar,
    headcount    integer,
    person_days  bigint,
    rate         decimal(38, 2),
    published    boolean,
    policy       varchar,
    hr_version   varchar,
    computed_at  timestamp
);
