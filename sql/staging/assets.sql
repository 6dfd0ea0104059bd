create table if not exists staging.assets (
    load_id                varchar not null,
    row_number             bigint not null,
    asset_id               varchar not null,
    hostname               varchar not null,
    gpu_count              integer not null,
    in_service_date        date not null,
    useful_life_months     integer not null,
    price                  decimal(38, 18) not null,
    salvage_value          decimal(38, 18) not null,
    maintenance_per_month  decimal(38, 18) not null,
    currency               varchar not null,
    disposal_date          date
);
comment on table staging.assets is 'One row per owned hardware asset (a GPU server) from the asset register.';
comment on column staging.assets.load_id is 'The file version (meta.loads.load_id).';
comment on column staging.assets.row_number is 'Row number in that file.';
comment on column staging.assets.asset_id is 'Asset tag.';
comment on column staging.assets.hostname is 'Host name, as it appears in GPU telemetry.';
comment on column staging.assets.gpu_count is 'GPUs in the server.';
comment on column staging.assets.in_service_date is 'First day of depreciation.';
comment on column staging.assets.useful_life_months is 'Useful life; depreciation ends the day before in_service_date + this many months.';
comment on column staging.assets.price is 'Purchase price, exact, in currency.';
comment on column staging.assets.salvage_value is 'Value at the end of its life; price - salvage is depreciated.';
comment on column staging.assets.maintenance_per_month is 'Maintenance contract cost per calendar month, spread over its days.';
comment on column staging.assets.currency is 'ISO 4217 currency of price, salvage and maintenance.';
comment on column staging.assets.disposal_date is 'Day the asset left service, if it did: depreciation stops and the remaining book value is written off on that day.';
