create table if not exists staging.labor (
    load_id       varchar not null,
    month         varchar not null,
    model_id      varchar not null,
    role          varchar not null,
    component     varchar not null,
    headcount     integer not null,
    cost          decimal(38, 18) not null,
    currency      varchar not null,
    person_days   decimal(38, 9) not null
);
comment on table staging.labor is 'One row per month, model, role group and component: fully loaded labor cost allocated to the model. Built from the restricted HR database; a role group with fewer than k people is merged into "other roles", so no individual''s pay can be read here.';
comment on column staging.labor.load_id is 'The HR delivery (people and allocation files) it was built from.';
comment on column staging.labor.month is 'Month, YYYY-MM.';
comment on column staging.labor.model_id is 'Model, or __unallocated__ for the share of people''s time allocated to no model.';
comment on column staging.labor.role is 'Role, or "other roles" for groups smaller than k.';
comment on column staging.labor.component is 'pay (salary, benefits, employer taxes) or training.';
comment on column staging.labor.headcount is 'People contributing (at least k, except for "other roles").';
comment on column staging.labor.cost is 'Allocated fully loaded cost, exact, in currency.';
comment on column staging.labor.currency is 'ISO 4217 currency of the people''s pay.';
comment on column staging.labor.person_days is 'Allocated working days (allocation share x working days of the month).';
