create table if not exists meta.task_failures (
    dag_id        varchar not null,
    run_id        varchar not null,
    task_id       varchar not null,
    map_index     integer not null,
    try_number    integer not null,
    state         varchar not null,
    failed_at     timestamp not null,
    error         varchar,
    log_url       varchar
);
comment on table meta.task_failures is 'One row per failed try of an Airflow task of the costledger DAGs, written by the task''s failure and retry callbacks: what failed, when, why, and where its log is.';
comment on column meta.task_failures.dag_id is 'DAG: cost_ledger_nightly or cost_report_monthly.';
comment on column meta.task_failures.run_id is 'Airflow DAG run id (scheduled__..., manual__..., backfill__...).';
comment on column meta.task_failures.task_id is 'Task id, e.g. ingest or period_ledger.validate.';
comment on column meta.task_failures.map_index is 'Index of the mapped task instance (one per period or remote source); -1 when not mapped.';
comment on column meta.task_failures.try_number is 'Which try failed (1 = first).';
comment on column meta.task_failures.state is 'up_for_retry (Airflow will try again) or failed (no tries left, or an error a retry cannot fix).';
comment on column meta.task_failures.failed_at is 'When the try failed (UTC).';
comment on column meta.task_failures.error is 'The exception type and message.';
comment on column meta.task_failures.log_url is 'Link to the try''s log in the Airflow UI.';
