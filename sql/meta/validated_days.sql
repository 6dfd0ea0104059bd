create table if not exists meta.validated_days (
    billing_period  varchar not null,
    charge_date     date,
    digest          varchar not null,
    gpu_digest      varchar not null,
    basis           varchar not null,
    run_id          varchar not null,
    validated_at    timestamp not null
);
comment on table meta.validated_days is 'One row per day of a billing period as its last successful validation saw it: a digest of what the day-grain checks read that day. The next validation of the period checks again only the days whose digest differs (or every day when the basis differs, or when asked for a full check).';
comment on column meta.validated_days.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.validated_days.charge_date is 'The day (null: candidate rows without a charge date, always checked).';
comment on column meta.validated_days.digest is 'Row count and hash sum of the day''s candidate rows (all columns but run_id), GPU samples and usage rows (sql/checks/day_digests.sql).';
comment on column meta.validated_days.gpu_digest is 'The same of what marts.gpu_efficiency reads: the day''s candidate GPU-time, owned server and energy rows, and its GPU samples.';
comment on column meta.validated_days.basis is 'What else the checks depend on: the suites, the check and mart SQL, and the build recipe (config, category rules, allocation code). Another basis checks every day.';
comment on column meta.validated_days.run_id is 'The build that was validated.';
comment on column meta.validated_days.validated_at is 'When that validation started (UTC): loads since then have their balance checked.';
-- warehouses created before the files behind a day had a digest of their own
alter table meta.validated_days add column if not exists source_digest varchar;
comment on column meta.validated_days.source_digest is 'The same of which delivered rows are behind the day: the source_ref of its candidate billing rows, its GPU samples and usage rows. The files behind a day it changes have their balance checked again (null: every file, once).';
