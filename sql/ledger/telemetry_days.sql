create table if not exists ledger.telemetry_days (
    load_id     varchar not null,
    hostname    varchar not null,
    day         date not null,
    first_ts    timestamp not null,
    last_ts     timestamp not null,
    step        integer not null,
    samples     bigint not null
);
comment on table ledger.telemetry_days is 'One row per telemetry file version staged, host (as delivered) and day of its samples in staging.gpu_samples: a summary each build, validation and publish brings up to date before it reads it (telemetry_days_refresh.sql), so finding which file versions a window of whole days holds, or which days have samples (marts.data_through, marts.anomalies), reads no sample. A staged version''s samples never change. Rebuildable: deleting rows only makes the next build add them up again.';
comment on column ledger.telemetry_days.load_id is 'A telemetry file version (staging.gpu_samples.load_id).';
comment on column ledger.telemetry_days.hostname is 'The host as the samples name it (staging.gpu_samples.hostname).';
comment on column ledger.telemetry_days.day is 'The day (UTC) of the samples.';
comment on column ledger.telemetry_days.first_ts is 'The first sample time of the version, host and day.';
comment on column ledger.telemetry_days.last_ts is 'The last sample time of the version, host and day.';
comment on column ledger.telemetry_days.step is 'The longest step (staging.gpu_samples.step_seconds) among those samples.';
comment on column ledger.telemetry_days.samples is 'How many samples.';
