-- _gpu_held, empty: the kept pass's rows (ledger.gpu_held) a build splits by, with their pool,
-- filled pool by pool from gpu_rows_held.sql.

create or replace temp table _gpu_held as
select
    null::varchar as pool,
    * exclude (key)
from ledger.gpu_held
limit 0
