create table if not exists meta.telemetry_settings (
    telemetry_step_seconds  integer not null,
    telemetry_gap_steps     integer not null
);
comment on table meta.telemetry_settings is 'One row: the telemetry settings of the configuration the last ledger build ran with (marts.telemetry_gaps applies the same gap rule as the ledger).';
comment on column meta.telemetry_settings.telemetry_step_seconds is 'Default step of a series with a single sample, seconds.';
comment on column meta.telemetry_settings.telemetry_gap_steps is 'A sample holds its GPU until the next one up to this many steps; a longer silence is a telemetry gap.';
