create table if not exists meta.phase_defaults (
    source  varchar not null,
    phase   varchar not null
);
comment on table meta.phase_defaults is 'One row per ledger source ([phases] of the configuration the last ledger build ran with): the lifecycle phase of a row of that source that no workload rule places.';
comment on column meta.phase_defaults.source is 'Ledger source: billing, assets, energy, labor, charges or milestones.';
comment on column meta.phase_defaults.phase is 'training, fine_tuning, inference, experimentation, data_preparation or shared.';
