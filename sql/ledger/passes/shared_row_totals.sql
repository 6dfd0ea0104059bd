-- The largest weight total a shared-pool row (_shared_rows, by source_ref) is split by: its
-- pool's weights (_shared_weights) of any one weight day. A day's piece is at most the row.

with day_totals as (
    select pool, sum(w) as total
    from _shared_weights
    group by pool, weight_day
),

final as (
    select r.source_ref, max(t.total) as total
    from _shared_rows as r
    inner join day_totals as t on r.pool = t.pool
    group by r.source_ref
)

select * from final
