-- The hosts (nodes) of a GPU pool ($pool) billed in the period ($period), among the rows kept
-- routed under the recipe $recipe (ledger.billing_deferred).

select distinct hostname
from ledger.billing_deferred
where
    recipe = $recipe
    and billing_period = $period
    and route = 'gpu_pool'
    and pool = $pool
    and hostname is not null
order by hostname
