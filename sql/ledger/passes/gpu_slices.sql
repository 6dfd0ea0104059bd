-- sqlfluff:ignore:parsing
-- (sqlfluff cannot parse DuckDB's lambda in list_reduce below; the parsable rest of the file is linted)
-- One row per GPU pool (or the owned servers) of _gpu_policies: S, its slices, the least common
-- multiple of the denominators of the fractions held in the pass (_gpu_held) and of its replica
-- count (1 when there are none); `per_unit`: what one GPU-millisecond x S weighs (10,000 basis
-- points under the utilisation policy, else 1). The split does not depend on S: every weight of a
-- split scales with it.

with denominators as (
    select pool, den from _gpu_held where den is not null
    union
    select pool, replicas from _gpu_policies where replicas is not null
),

lcms as (
    select pool, list_reduce(list(den), lambda a, b: lcm(a, b)) as slices
    from denominators
    group by pool
),

final as (
    select
        p.pool,
        coalesce(l.slices, 1) as slices,
        case when p.policy = 'utilisation' then 10000 else 1 end as per_unit,
        p.policy
    from _gpu_policies as p
    left join lcms as l on p.pool = l.pool
)

select * from final
