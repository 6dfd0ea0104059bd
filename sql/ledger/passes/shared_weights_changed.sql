-- The shared pools whose weights (_shared_weights, shared_pool_weights.sql) differ from those the
-- kept candidate's rows of $period were split with (ledger.shared_weights): their rows of the
-- whole period are split again.

with differing as (
    (
        select pool, model_id, w from _shared_weights
        except
        select pool, model_id, w from ledger.shared_weights where billing_period = $period
    )
    union all
    (
        select pool, model_id, w from ledger.shared_weights where billing_period = $period
        except
        select pool, model_id, w from _shared_weights
    )
),

final as (
    select distinct pool from differing
)

select * from final
