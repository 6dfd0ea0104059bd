-- One row per day of the period that holds candidate rows, GPU samples or usage: digests of what
-- the day-grain checks read that day. `digest`: everything (the candidate's rows, the samples,
-- the usage): the ledger rows and the daily cost marts are checked again on a day it changes.
-- `gpu_digest`: what marts.gpu_efficiency reads (the candidate's GPU-time, owned server and energy
-- rows, a superset of the mart's gpu_rows, and the samples): that mart is checked again on a
-- day it changes (a shared pool split again changes every day's rows, not their GPU time).
-- `source_digest`: which delivered rows are behind the day (the source_ref of its billing rows,
-- the samples, the usage): the files' balance is checked again for the files behind a day it
-- changes (a row lost from staging takes its parts away; a shared pool split again does not).
-- Each part is a row count and a sum of row hashes (a sum, not an xor: two equal rows do not
-- cancel out); a candidate row's hash covers every column but run_id (the build that wrote it): its
-- row_hash as the build stored it, or for a row without one the same hash (pipeline.columns.ROW_HASH)
-- computed here. Two branches, not a coalesce: only the rows without a stored hash read every column.
-- The samples' part adds up ledger.telemetry_days (brought up to date first), not the samples: a
-- staged file version's samples never change, so the versions, hosts and counts of a day's samples
-- change exactly when its samples do.
with candidate as (
    select charge_date, quantity_unit, source, source_ref, row_hash
    from ledger.cost_ledger_candidate
    where billing_period = $period and row_hash is not null
    union all
    select charge_date, quantity_unit, source, source_ref, $row_hash
    from ledger.cost_ledger_candidate
    where billing_period = $period and row_hash is null
),

parts as (
    select 'ledger' as part, c.charge_date as day, count(*) as n, sum(c.row_hash::hugeint) as h
    from candidate as c
    group by c.charge_date
    union all
    select 'gpu', c.charge_date, count(*), sum(c.row_hash::hugeint)
    from candidate as c
    where c.quantity_unit = 'GPU-hours' or c.source in ('assets', 'energy')
    group by c.charge_date
    union all
    select 'sources', c.charge_date, count(*), sum(hash(c.source_ref)::hugeint)
    from candidate as c
    where c.source = 'billing'
    group by c.charge_date
    union all
    select 'samples', day, sum(samples), sum(hash(load_id, hostname, first_ts, last_ts, step, samples)::hugeint)
    from ledger.telemetry_days
    where day >= cast($period || '-01' as date) and day < cast($period || '-01' as date) + interval 1 month
    group by day
    union all
    select 'usage', usage_date, count(*), sum(hash(load_id, row_number)::hugeint)
    from staging.usage
    where strftime(usage_date, '%Y-%m') = $period
    group by usage_date
),

final as (
    select
        day as charge_date,
        string_agg(part || ':' || n || ':' || h, ' ' order by part) filter (
            where part in ('ledger', 'samples', 'usage')
        ) as digest,
        coalesce(
            string_agg(part || ':' || n || ':' || h, ' ' order by part) filter (where part in ('gpu', 'samples')), ''
        ) as gpu_digest,
        coalesce(
            string_agg(part || ':' || n || ':' || h, ' ' order by part) filter (
                where part in ('sources', 'samples', 'usage')
            ),
            ''
        ) as source_digest
    from parts
    group by day
)

select * from final
order by charge_date
