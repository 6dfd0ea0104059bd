create table if not exists meta.anomaly_settings (
    weeks            integer not null,
    band_mads        decimal(9, 4) not null,
    min_band_share   decimal(9, 4) not null,
    min_band_amount  decimal(38, 18) not null,
    categories       varchar[] not null
);
comment on table meta.anomaly_settings is 'One row: the [anomalies] band settings of the configuration the last publish ran with (marts.anomalies reads them; defaults apply while the table is empty).';
comment on column meta.anomaly_settings.weeks is 'History: the same weekday over this many weeks before the day.';
comment on column meta.anomaly_settings.band_mads is 'Half-width of the band in scaled median absolute deviations (1.4826 x MAD).';
comment on column meta.anomaly_settings.min_band_share is 'Least half-width, as a share of the expected (median) cost.';
comment on column meta.anomaly_settings.min_band_amount is 'Least half-width, in the reporting currency.';
comment on column meta.anomaly_settings.categories is 'Categories watched.';
