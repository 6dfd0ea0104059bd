-- restricted/hr.duckdb (owner-only, never the shared warehouse): Per month and pay currency: HR cost, standard cost, allocated, withheld and the variance line.
create table if not exists labor_variance (
    month           varchar,
    currency        varchar,
    headcount       integer,
    hr_cost         decimal(38, 18),
    standard_cost   decimal(38, 18),
    allocated_cost  decimal(38, 18),
    withheld_cost   decimal(38, 18),
    variance        decimal(38, 18),
    hr_version      varchar
);
