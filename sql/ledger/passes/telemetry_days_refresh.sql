-- Brings ledger.telemetry_days up to date with the telemetry file versions staged
-- (staging.gpu_samples): forgets the versions no longer staged (superseded), and adds up the
-- samples of each staged version it has no row of. A version's staged samples never change, so
-- its rows stay right; the join reads only the row groups of the versions added (a nightly
-- build: one file).

create or replace temp table _telemetry_loads as
select distinct load_id from staging.gpu_samples;

delete from ledger.telemetry_days
where load_id not in (select load_id from _telemetry_loads);

insert into ledger.telemetry_days
select
    load_id,
    hostname,
    cast(ts as date) as day,
    min(ts) as first_ts,
    max(ts) as last_ts,
    max(step_seconds) as step,
    count(*) as samples
from staging.gpu_samples
where load_id in (select load_id from _telemetry_loads except select load_id from ledger.telemetry_days)
group by load_id, hostname, cast(ts as date);

drop table _telemetry_loads;
