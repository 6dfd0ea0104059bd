-- _gpu_rows, empty: the GPU-pool node rows a build splits (ledger.billing_deferred rows and their
-- source_ref), filled pool by pool from gpu_rows_to_split.sql.

create or replace temp table _gpu_rows as
select
    *,
    '' as source_ref
from ledger.billing_deferred
limit 0
