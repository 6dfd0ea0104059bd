-- _tariff_bands, empty: the owned servers' time-of-use tariff bands (UTC hours, ISO weekdays), in
-- the order they are declared (the first band an hour falls in prices it), filled by
-- pipeline.ledger.owned.

create or replace temp table _tariff_bands (
    band_order  integer,
    start_hour  integer,
    end_hour    integer,
    weekdays    integer[],
    tariff      decimal(38, 10)
)
