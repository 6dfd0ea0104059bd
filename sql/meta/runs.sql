create table if not exists meta.runs (
    execution_id  varchar primary key,
    run_id        varchar,
    command       varchar not null,
    periods       varchar[],
    started_at    timestamp not null,
    finished_at   timestamp,
    status        varchar not null,
    message       varchar
);
comment on table meta.runs is 'One row per execution of a pipeline step (ingest, build, validate, publish, report).';
comment on column meta.runs.execution_id is 'Unique id of this execution.';
comment on column meta.runs.run_id is 'Deterministic build id (ledger.cost_ledger.run_id) where the step built or published a ledger.';
comment on column meta.runs.command is 'Which step ran.';
comment on column meta.runs.periods is 'Billing periods (YYYY-MM) the step touched.';
comment on column meta.runs.started_at is 'Start time (UTC).';
comment on column meta.runs.finished_at is 'End time (UTC); null while running or when the process died.';
comment on column meta.runs.status is 'running, success, failed.';
comment on column meta.runs.message is 'Summary or error message.';
