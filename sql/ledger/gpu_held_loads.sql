create table if not exists ledger.gpu_held_loads (
    key         varchar not null,
    load_id     varchar not null,
    first_ts    timestamp not null,
    last_ts     timestamp not null
);
comment on table ledger.gpu_held_loads is 'The telemetry file versions ledger.gpu_held was made from, per key and host: a version that arrives or goes sends the host''s hours from its first sample back through the pass.';
comment on column ledger.gpu_held_loads.key is 'As ledger.gpu_held.key.';
comment on column ledger.gpu_held_loads.load_id is 'A telemetry file version (meta.loads.load_id) with samples of the pool in the window.';
comment on column ledger.gpu_held_loads.first_ts is 'Its first sample time in the window.';
comment on column ledger.gpu_held_loads.last_ts is 'Its last sample time in the window.';
-- warehouses created before the loads were kept per host
alter table ledger.gpu_held_loads add column if not exists hostname varchar;
comment on column ledger.gpu_held_loads.hostname is 'The pool node (telemetry host) the rows are for: each host''s hours are passed again on their own.';
