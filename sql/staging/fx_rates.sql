create table if not exists staging.fx_rates (
    load_id     varchar not null,
    row_number  bigint not null,
    rate_date   date not null,
    currency    varchar not null,
    rate        decimal(38, 10) not null
);
comment on table staging.fx_rates is 'One row per currency per day: units of the reporting currency for one unit of currency.';
comment on column staging.fx_rates.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.fx_rates.row_number is 'Row number in that file.';
comment on column staging.fx_rates.rate_date is 'Day the rate applies to.';
comment on column staging.fx_rates.currency is 'ISO 4217 currency converted from.';
comment on column staging.fx_rates.rate is 'Reporting-currency units per unit of currency, exact, at most 10 decimals.';
