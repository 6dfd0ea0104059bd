-- Rebuilt whole from the restricted HR database on every HR change (and when this file changes).
create or replace table staging.labor_rates (
    load_id      varchar not null,
    rate_period  varchar not null,
    first_month  varchar not null,
    last_month   varchar not null,
    role         varchar not null,
    currency     varchar not null,
    headcount    integer not null,
    rate         decimal(38, 2) not null
);
comment on table staging.labor_rates is 'One row per rate period, pay currency and rate group: the standard labor rate per person-day, the mean fully loaded pay per working day of at least k people over the whole period. Computed once per period in the restricted HR database and kept: joiners, leavers and restated HR files do not move it.';
comment on column staging.labor_rates.load_id is 'The HR deliveries the tables were last built from.';
comment on column staging.labor_rates.rate_period is 'YYYY (config labor.rate_period = "year") or YYYY-Qn ("quarter").';
comment on column staging.labor_rates.first_month is 'First month of the rate period, YYYY-MM.';
comment on column staging.labor_rates.last_month is 'Last month of the rate period, YYYY-MM.';
comment on column staging.labor_rates.role is 'Rate group: a role band, a role family (config labor.families) or "all staff", for bands of fewer than k people merged upwards.';
comment on column staging.labor_rates.currency is 'ISO 4217 currency of the group''s pay.';
comment on column staging.labor_rates.headcount is 'People the rate is the mean of: at least k.';
comment on column staging.labor_rates.rate is 'Standard rate per person-day, rounded half to even to cents.';
