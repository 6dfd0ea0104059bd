-- The telemetry file versions the kept pass of a key ($key) was made from (ledger.gpu_held_loads),
-- of every host ($every_host) or of the hosts in $hosts.

select hostname, load_id, first_ts, last_ts
from ledger.gpu_held_loads
where key = $key and ($every_host or hostname in (select unnest($hosts::varchar[])))
