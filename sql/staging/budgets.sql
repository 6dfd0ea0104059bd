create table if not exists staging.budgets (
    load_id        varchar not null,
    row_number     bigint not null,
    period         varchar not null,
    model_id       varchar,
    team           varchar,
    business_line  varchar,
    owner          varchar,
    category       varchar,
    amount         decimal(38, 18) not null,
    currency       varchar not null
);
comment on table staging.budgets is 'One row per budget line: a month''s amount for one model, team, business line or owner (none named: the whole estate), for one category or (category null) all six.';
comment on column staging.budgets.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.budgets.row_number is 'Row number in that file.';
comment on column staging.budgets.period is 'Month YYYY-MM the budget is for.';
comment on column staging.budgets.model_id is 'Model the budget is for, when it is a model''s.';
comment on column staging.budgets.team is 'Team the budget is for, when it is a team''s (the models it held on each day, from the registry).';
comment on column staging.budgets.business_line is 'Business line the budget is for, when it is a business line''s.';
comment on column staging.budgets.owner is 'Owner the budget is for, when it is an owner''s.';
comment on column staging.budgets.category is 'One of the six categories; null for all of them.';
comment on column staging.budgets.amount is 'Budgeted amount, exact, in currency.';
comment on column staging.budgets.currency is 'Currency of the amount (ISO 4217).';
