-- The shared-pool rows to split (again), kept routed under the recipe $recipe in the period
-- $period: those of new billing file versions ($new), and every row of the pools whose weights
-- changed ($changed_pools).

select
    *,
    load_id || ':' || row_number as source_ref
from ledger.billing_deferred
where
    recipe = $recipe
    and billing_period = $period
    and route = 'shared'
    and (load_id in (select unnest($new::varchar[])) or pool in (select unnest($changed_pools::varchar[])))
