create table if not exists meta.published_days (
    billing_period  varchar not null,
    charge_date     date,
    digest          varchar not null,
    run_id          varchar not null,
    schema_digest   varchar not null
);
comment on table meta.published_days is 'One row per day of a billing period as its last publish wrote it: the digest its validation took of the day (meta.validated_days). The next publish compares again only the rows of the days whose validated digest differs.';
comment on column meta.published_days.billing_period is 'Billing period (YYYY-MM).';
comment on column meta.published_days.charge_date is 'The day (null: rows without a charge date, always compared).';
comment on column meta.published_days.digest is 'Row count and hash sum of the day''s rows as published (all columns but run_id), and of its GPU samples and usage rows (sql/checks/day_digests.sql).';
comment on column meta.published_days.run_id is 'The build published.';
comment on column meta.published_days.schema_digest is 'meta.schema_digest when it was published: another schema compares every day.';
