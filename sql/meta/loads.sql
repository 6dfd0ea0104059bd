create table if not exists meta.loads (
    load_id           varchar primary key,
    source            varchar not null,
    path              varchar not null,
    checksum          varchar not null,
    detected_format   varchar,
    rows_in           bigint not null,
    rows_loaded       bigint not null,
    rows_quarantined  bigint not null,
    status            varchar not null,
    message           varchar,
    superseded_by     varchar,
    periods           varchar[],
    loaded_at         timestamp not null
);
comment on table meta.loads is 'One row per input file version read from the inbox: what it was, how many rows went where. rows_in = rows_loaded + rows_quarantined.';
comment on column meta.loads.load_id is 'Id of this load: the source and the first 16 hex digits of the file checksum.';
comment on column meta.loads.source is 'Input family: billing, telemetry, labor, assets, charges, usage, optimizations, milestones or fx.';
comment on column meta.loads.path is 'File path relative to the workspace inbox.';
comment on column meta.loads.checksum is 'SHA-256 of the file bytes as delivered.';
comment on column meta.loads.detected_format is 'Format detected from the content (header or keys), e.g. focus-1.2, prometheus-query-range.';
comment on column meta.loads.rows_in is 'Data rows found in the file (series for telemetry JSON).';
comment on column meta.loads.rows_loaded is 'Rows that reached staging.';
comment on column meta.loads.rows_quarantined is 'Rows kept in meta.quarantine instead.';
comment on column meta.loads.status is 'loaded, superseded (a later version replaced it; its raw rows stay queryable) or rejected.';
comment on column meta.loads.message is 'What happened, in words; for a rejected file, why.';
comment on column meta.loads.superseded_by is 'load_id of the version that replaced this one.';
comment on column meta.loads.periods is 'Billing periods (YYYY-MM) the file''s rows fall in.';
comment on column meta.loads.loaded_at is 'When the file was loaded (UTC).';
