-- restricted/hr.duckdb (owner-only, never the shared warehouse): The rate group each band of a rate period was merged into.
create table if not exists labor_rate_bands (
    rate_period  varchar,
    currency     varchar,
    band         varchar,
    role_group   varchar
);
