-- The pass's rows of a frame (_held_frame, pipeline/ledger/gpu.py) as _gpu_held of one pool
-- ($pool), typed as ledger.gpu_held keeps them.

select
    $pool::varchar as pool,
    hostname,
    bucket::bigint as bucket,
    namespace,
    pod,
    container,
    labels,
    num::bigint as num,
    den::bigint as den,
    single,
    ms::hugeint as ms,
    ms_util::hugeint as ms_util
from _held_frame
