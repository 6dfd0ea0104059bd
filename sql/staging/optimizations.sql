create table if not exists staging.optimizations (
    load_id      varchar not null,
    row_number   bigint not null,
    action_date  date not null,
    model_id     varchar not null,
    action       varchar not null,
    description  varchar
);
-- a warehouse created before the column existed gains it here
alter table staging.optimizations add column if not exists claimed_saving_percent decimal(38, 9);
comment on table staging.optimizations is 'One row per optimisation action taken on a model (what the impact report measures).';
comment on column staging.optimizations.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.optimizations.row_number is 'Row number in that file.';
comment on column staging.optimizations.action_date is 'Day the change went live.';
comment on column staging.optimizations.model_id is 'Model changed.';
comment on column staging.optimizations.action is 'quantization, right_sizing, spot, autoscaling or other.';
comment on column staging.optimizations.description is 'What was done.';
comment on column staging.optimizations.claimed_saving_percent is 'Saving the log claims for the action, percent of the cost it acts on (e.g. 30 for "cut 30 %"); null when it claims none. marts.optimization_savings says whether the data supports it.';
