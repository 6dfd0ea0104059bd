create table if not exists staging.milestones (
    load_id                varchar not null,
    row_number             bigint not null,
    model_id               varchar not null,
    milestone              varchar not null,
    planned_date           date not null,
    actual_date            date,
    cost_of_delay_per_day  decimal(38, 18) not null,
    currency               varchar not null,
    started_date           date
);
alter table staging.milestones add column if not exists cancelled_date date;
comment on table staging.milestones is 'One row per model milestone: planned and actual delivery and the cost of each day late.';
comment on column staging.milestones.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.milestones.row_number is 'Row number in that file.';
comment on column staging.milestones.model_id is 'Model.';
comment on column staging.milestones.milestone is 'Milestone name.';
comment on column staging.milestones.planned_date is 'Planned delivery day.';
comment on column staging.milestones.actual_date is 'Actual delivery day; null while still open (cost accrues up to the run date, while the work is still planned).';
comment on column staging.milestones.cancelled_date is 'Day the work was cancelled (optional): no longer planned, so no delay accrues from this day on.';
comment on column staging.milestones.cost_of_delay_per_day is 'Cost of one day late, exact.';
comment on column staging.milestones.currency is 'ISO 4217 currency of cost_of_delay_per_day.';
comment on column staging.milestones.started_date is 'Day work on the milestone started (optional): time to deploy = actual_date - started_date.';
