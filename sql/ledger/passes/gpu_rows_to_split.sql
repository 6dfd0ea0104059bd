-- The node rows of a GPU pool ($pool) to split (again), kept routed under the recipe $recipe in the
-- period $period: those of new billing file versions ($new), and those of the hosts whose kept
-- pass changed ($changed_hosts) from the hour $changed_from (microseconds since the epoch) on.

select
    *,
    load_id || ':' || row_number as source_ref
from ledger.billing_deferred
where
    recipe = $recipe
    and billing_period = $period
    and route = 'gpu_pool'
    and pool = $pool
    and (
        load_id in (select unnest($new::varchar[]))
        or (hostname in (select unnest($changed_hosts::varchar[])) and epoch_us(ChargePeriodEnd) > $changed_from)
    )
