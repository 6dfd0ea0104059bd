-- The period's ($period) candidate rows that do not come from a bill, each with whether the
-- build writes it again exactly as it is (`kept`: every column but run_id the same in
-- _other_rows). The owned servers' hardware rows (source assets) count only from $hardware_from
-- on, their energy rows (source energy) only from $energy_from on, none when null: the rows
-- before are kept as they are.

create or replace temp table _other_rows_kept as
with scope as (
    select * from ledger.cost_ledger_candidate
    where
        billing_period = $period
        and source <> 'billing'
        and (source <> 'assets' or charge_date >= $hardware_from)
        and (source <> 'energy' or charge_date >= $energy_from)
),

same as (
    select $columns from scope
    intersect
    select $columns from _other_rows
)

select
    scope.lineage_id,
    scope.lineage_id in (select same.lineage_id from same) as kept
from scope
