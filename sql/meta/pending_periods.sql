create table if not exists meta.pending_periods (
    period      varchar primary key,
    since       timestamp not null
);
comment on table meta.pending_periods is 'One row per billing period whose inputs changed since it was last published: written in the same transaction as the change, deleted in the transaction that publishes the period, so a run that dies in between leaves it for the next run.';
comment on column meta.pending_periods.period is 'Billing period (YYYY-MM) to rebuild.';
comment on column meta.pending_periods.since is 'When its inputs first changed (UTC).';
