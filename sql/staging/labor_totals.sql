create table if not exists staging.labor_totals (
    load_id    varchar not null,
    month      varchar not null,
    currency   varchar not null,
    headcount  integer not null,
    cost       decimal(38, 18) not null
);
comment on table staging.labor_totals is 'One row per month and pay currency: the HR export''s total fully loaded cost, the figure allocated labor must equal exactly.';
comment on column staging.labor_totals.load_id is 'The HR delivery it was built from.';
comment on column staging.labor_totals.month is 'Month, YYYY-MM.';
comment on column staging.labor_totals.currency is 'ISO 4217 currency.';
comment on column staging.labor_totals.headcount is 'People paid that month.';
comment on column staging.labor_totals.cost is 'Total fully loaded cost, exact.';
