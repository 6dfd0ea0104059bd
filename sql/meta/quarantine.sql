create table if not exists meta.quarantine (
    load_id     varchar not null,
    path        varchar not null,
    row_number  bigint not null,
    "column"    varchar,
    value       varchar,
    reason      varchar not null
);
comment on table meta.quarantine is 'One row per rejected input row (first failing column): kept, never dropped.';
comment on column meta.quarantine.load_id is 'The load the row belonged to (meta.loads.load_id).';
comment on column meta.quarantine.path is 'File path relative to the workspace inbox.';
comment on column meta.quarantine.row_number is 'Row number in the file, 1 = first data row after the header.';
comment on column meta.quarantine."column" is 'Column that failed.';
comment on column meta.quarantine.value is 'The value as delivered.';
comment on column meta.quarantine.reason is 'What was expected.';
