-- The shared pools' weight days (pool, weight_day; null: every day) whose weights
-- (_shared_weights, shared_pool_weights.sql) differ from those the kept candidate's rows of
-- $period were split with (ledger.shared_weights): the pool's rows of those days are split again.

with kept as (
    select pool, charge_date as weight_day, model_id, w
    from ledger.shared_weights
    where billing_period = $period
),

differing as (
    (
        select pool, weight_day, model_id, w from _shared_weights
        except
        select pool, weight_day, model_id, w from kept
    )
    union all
    (
        select pool, weight_day, model_id, w from kept
        except
        select pool, weight_day, model_id, w from _shared_weights
    )
),

final as (
    select distinct pool, weight_day from differing
)

select * from final
