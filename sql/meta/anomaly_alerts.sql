create table if not exists meta.anomaly_alerts (
    charge_date   date not null,
    model_id      varchar not null,
    category      varchar not null,
    currency      varchar not null,
    actual        decimal(38, 18) not null,
    expected      decimal(38, 18) not null,
    upper_bound   decimal(38, 18) not null,
    excess        decimal(38, 18) not null,
    alerted_at    timestamp not null,
    alerted_by    varchar not null
);
comment on table meta.anomaly_alerts is 'One row per anomaly (day, model, category) the nightly run has alerted on: each is sent once, so a rerun does not repeat it.';
comment on column meta.anomaly_alerts.charge_date is 'Day of the anomaly.';
comment on column meta.anomaly_alerts.model_id is 'Model or bucket.';
comment on column meta.anomaly_alerts.category is 'Category.';
comment on column meta.anomaly_alerts.currency is 'Reporting currency.';
comment on column meta.anomaly_alerts.actual is 'Effective cost that day, exact, when alerted.';
comment on column meta.anomaly_alerts.expected is 'Expected cost (the band''s median), when alerted.';
comment on column meta.anomaly_alerts.upper_bound is 'Upper bound of the band, when alerted.';
comment on column meta.anomaly_alerts.excess is 'actual - upper_bound, when alerted.';
comment on column meta.anomaly_alerts.alerted_at is 'When the alert was sent (UTC).';
comment on column meta.anomaly_alerts.alerted_by is 'The Airflow DAG run (dag_id/run_id) or cli that sent it.';
