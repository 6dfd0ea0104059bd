-- sqlfluff:ignore:parsing
-- (sqlfluff cannot parse DuckDB's lambda in list_reduce below; the parsable rest of the file is linted)
-- One row per owned host, day, model and reason of the energy slots (_energy_slots,
-- energy_slots.sql): `mj_shares`, the millijoules drawn (truncated) x L / n, L the least common
-- multiple of the sharing counts (so a reading shared by n workloads splits exactly), and `w`,
-- that x the hour's price in millionths under time-of-use bands ($bands), else x 1; `shares` = L.

with slots as (
    select * from _energy_slots
),

counts as (
    select list_reduce(list(distinct n), lambda a, b: lcm(a, b)) as shares
    from slots
),

weighed as (
    select
        s.*,
        c.shares,
        trunc(s.joules * 1000)::bigint * (c.shares // s.n) as mj,
        case when $bands then trunc(s.tariff * 1000000)::bigint else 1 end as tariff_units
    from slots as s
    cross join counts as c
),

final as (
    select
        hostname,
        charge_date,
        model_id,
        unallocated_reason,
        sum(mj) as mj_shares,
        sum(mj * tariff_units) as w,
        any_value(shares) as shares
    from weighed
    group by hostname, charge_date, model_id, unallocated_reason
)

select * from final
