create table if not exists ledger.owned_loads (
    billing_period  varchar not null,
    key             varchar not null,
    hostname        varchar not null,
    load_id         varchar not null,
    first_ts        timestamp not null,
    last_ts         timestamp not null
);
comment on table ledger.owned_loads is 'The telemetry file versions the candidate''s owned-server parts (hardware and energy) of a period were made from, per host: a version that arrives or goes makes those parts again from the first day it can change. Rebuildable: deleting rows only makes the next build make every day again.';
comment on column ledger.owned_loads.billing_period is 'Billing period, YYYY-MM.';
comment on column ledger.owned_loads.key is 'The build recipe, sample window and owned-server register the parts were made under (another key: every day is made again).';
comment on column ledger.owned_loads.hostname is 'The owned server (telemetry host).';
comment on column ledger.owned_loads.load_id is 'A telemetry file version (meta.loads.load_id) with samples of the server in the window.';
comment on column ledger.owned_loads.first_ts is 'Its first sample time in the window.';
comment on column ledger.owned_loads.last_ts is 'Its last sample time in the window.';
