-- HR totals never stay in the shared warehouse: the table earlier versions kept them in goes.
drop table if exists staging.labor_totals;

-- Rebuilt whole from the restricted HR database on every HR change (and when this file changes).
create or replace table staging.labor (
    load_id       varchar not null,
    month         varchar not null,
    model_id      varchar not null,
    role          varchar not null,
    currency      varchar not null,
    rate_period   varchar not null,
    headcount     integer not null,
    person_days   decimal(38, 18) not null,
    cost          decimal(38, 18) not null
);
comment on table staging.labor is 'One row per month, model and labor cell: person-days allocated to the model x the standard rate of each person''s rate group (staging.labor_rates). Every cell stands for at least k people (config labor.k_anonymity): smaller ones are merged into the model''s "all staff" cell, and a model with fewer than k people in a month is withheld. Pay, HR totals and the variance to them stay in the restricted HR database.';
comment on column staging.labor.load_id is 'The HR deliveries it was built from (hr- + a hash of their load ids).';
comment on column staging.labor.month is 'Month, YYYY-MM.';
comment on column staging.labor.model_id is 'Model, or __unallocated__ for the share of people''s time allocated to no model.';
comment on column staging.labor.role is 'Labor cell: a rate group (role band, role family or "all staff"), or "all staff" for the model''s rate groups of fewer than k people merged.';
comment on column staging.labor.currency is 'ISO 4217 currency of the people''s pay (and of the rates).';
comment on column staging.labor.rate_period is 'Rate period of the standard rates used: YYYY (year) or YYYY-Qn (quarter).';
comment on column staging.labor.headcount is 'People in the cell: at least k.';
comment on column staging.labor.person_days is 'Working days employed x allocation share, summed over the cell''s people (exact).';
comment on column staging.labor.cost is 'Standard cost: each person''s person-days x their rate group''s standard rate, exact.';
