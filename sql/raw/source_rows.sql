create table if not exists raw.source_rows (
    load_id     varchar not null,
    source      varchar not null,
    row_number  bigint not null,
    record      json not null
);
comment on table raw.source_rows is 'One row per input row as delivered (for JSON telemetry, one row per series), every value kept as text. Rows of superseded file versions stay here. HR rows never land here: they live in the restricted database.';
comment on column raw.source_rows.load_id is 'The file version it came from (meta.loads.load_id: path, checksum, batch).';
comment on column raw.source_rows.source is 'Input family (billing, telemetry, ...).';
comment on column raw.source_rows.row_number is 'Row number in the file, 1 = first data row after the header.';
comment on column raw.source_rows.record is 'The row as a JSON object of column name to the text delivered (null for an empty cell).';
