-- Filled by pipeline.marts.forecast when a period is published (a bootstrap interval needs Python).
create table if not exists marts.cost_forecast (
    month              varchar not null,
    scope_kind         varchar not null,
    scope              varchar not null,
    category           varchar not null,
    currency           varchar not null,
    data_through       date not null,
    days_observed      integer not null,
    days_remaining     integer not null,
    actual_to_date     decimal(38, 18) not null,
    forecast           decimal(38, 18) not null,
    forecast_low       double not null,
    forecast_high      double not null,
    level              double not null,
    method             varchar not null
);
comment on table marts.cost_forecast is 'One row per month, scope (total, business line, team, owner or model, by the dated registry) and category (or all): effective cost to date and a month-end forecast with an interval. Method: cost to the month''s data_through day, plus for each remaining day the mean cost of the same weekday over the 28 days up to it (weekday run rate: labor-free weekends stay cheap); interval: a seeded bootstrap that draws each remaining day from the observed days of its weekday, the percentiles of the summed draws. A complete month''s forecast is its actual.';
comment on column marts.cost_forecast.month is 'Calendar month YYYY-MM.';
comment on column marts.cost_forecast.scope_kind is 'total, business_line, team, owner or model.';
comment on column marts.cost_forecast.scope is 'The business line, team, owner or model (* for total); buckets and unregistered models as marts.daily_team_cost names them.';
comment on column marts.cost_forecast.category is 'One of the six categories, or all.';
comment on column marts.cost_forecast.currency is 'Reporting currency.';
comment on column marts.cost_forecast.data_through is 'Last day of the month with metered data (marts.data_through): the forecast runs from the day after.';
comment on column marts.cost_forecast.days_observed is 'Days of history the weekday run rate used (up to 28, none before the ledger starts).';
comment on column marts.cost_forecast.days_remaining is 'Days of the month after data_through.';
comment on column marts.cost_forecast.actual_to_date is 'Effective cost from the month''s first day to data_through, exact.';
comment on column marts.cost_forecast.forecast is 'actual_to_date + the weekday run rate x each remaining day (exact, rounded half-even to 18 decimals).';
comment on column marts.cost_forecast.forecast_low is 'Lower end of the bootstrap interval (a statistical estimate, DOUBLE).';
comment on column marts.cost_forecast.forecast_high is 'Upper end of the bootstrap interval (DOUBLE).';
comment on column marts.cost_forecast.level is 'Coverage of the interval (0.95: the 2.5th to 97.5th percentile of the draws).';
comment on column marts.cost_forecast.method is 'How the row was forecast: weekday_run_rate, or complete (actual, no forecast).';
