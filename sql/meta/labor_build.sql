create table if not exists meta.labor_build (
    version      varchar not null,
    labor_config varchar not null,
    k_anonymity  integer not null,
    cells        bigint not null,
    rates        bigint not null,
    built_at     timestamp not null
);
comment on table meta.labor_build is 'One row: the HR deliveries and labor settings staging.labor and staging.labor_rates were last built from (a different version, setting or row count rebuilds them).';
comment on column meta.labor_build.version is 'hr- + a hash of the HR load ids.';
comment on column meta.labor_build.labor_config is 'The [labor] settings, as JSON.';
comment on column meta.labor_build.k_anonymity is 'The k every published labor figure stands for at least.';
comment on column meta.labor_build.cells is 'Rows written to staging.labor.';
comment on column meta.labor_build.rates is 'Rows written to staging.labor_rates.';
comment on column meta.labor_build.built_at is 'When, UTC.';
