create table if not exists meta.replaced_rows (
    load_id      varchar not null,
    row_number   bigint not null,
    replaced_by  varchar not null,
    replaced_at  timestamp not null
);
comment on table meta.replaced_rows is 'One row per billing row of a file version that a later export of its provider, billing account and period replaced while the version''s other accounts stayed (a restatement by account): the row left staging.billing, its raw row stays. A file version replaced whole is status superseded instead.';
comment on column meta.replaced_rows.load_id is 'The file version the row belonged to (meta.loads.load_id).';
comment on column meta.replaced_rows.row_number is 'Its row number in that file (raw.source_rows.row_number).';
comment on column meta.replaced_rows.replaced_by is 'The later file version that replaced it.';
comment on column meta.replaced_rows.replaced_at is 'When (UTC).';
