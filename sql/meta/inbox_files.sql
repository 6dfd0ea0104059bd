create table if not exists meta.inbox_files (
    path        varchar not null,
    size        bigint not null,
    mtime_ns    bigint not null,
    ctime_ns    bigint not null,
    inode       ubigint not null,
    device      ubigint not null,
    load_id     varchar not null,
    seen_ns     bigint not null
);
comment on table meta.inbox_files is 'One row per inbox file the writer loaded or found loaded already: its file status when its bytes were last read, and their version. A file whose status is the same today, and that last changed at least two seconds before it was read (a change within the same clock tick could leave the times as they were), holds the same bytes: it is not read again. Any write changes ctime, which no program can set back.';
comment on column meta.inbox_files.path is 'File path relative to the workspace inbox.';
comment on column meta.inbox_files.size is 'Size in bytes.';
comment on column meta.inbox_files.mtime_ns is 'Modification time (ns since the epoch).';
comment on column meta.inbox_files.ctime_ns is 'Status change time (ns since the epoch): changed by any write, rename or chmod.';
comment on column meta.inbox_files.inode is 'Inode number.';
comment on column meta.inbox_files.device is 'Device number.';
comment on column meta.inbox_files.load_id is 'The file version its bytes are (meta.loads.load_id).';
comment on column meta.inbox_files.seen_ns is 'When the file status was taken, before its bytes were read (ns since the epoch).';
