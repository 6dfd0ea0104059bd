-- restricted/hr.duckdb (owner-only, never the shared warehouse): Training spend of a person or a cost centre on a day.
create table if not exists training (
    load_id      varchar,
    row_number   bigint,
    date         date,
    person       varchar,
    cost_centre  varchar,
    amount       decimal(38, 18),
    currency     varchar
);
