-- Adds to _gpu_held the kept hourly pass (ledger.gpu_held, $key) of the hours the node rows of
-- $pool being split (_gpu_rows) cover: only those hours are read.
insert into _gpu_held
with needed as (
    select distinct
        hostname, epoch_us(unnest(generate_series(
            date_trunc('hour', ChargePeriodStart), ChargePeriodEnd - interval 1 microsecond, interval 1 hour
        ))) as bucket
    from _gpu_rows
    where pool = $pool
),

final as (
    select
        $pool as pool,
        h.hostname,
        h.bucket,
        h.namespace,
        h.pod,
        h.container,
        h.labels,
        h.num,
        h.den,
        h.single,
        h.ms,
        h.ms_util
    from ledger.gpu_held as h
    inner join needed as n on h.hostname = n.hostname and h.bucket = n.bucket
    where h.key = $key
)

select * from final
