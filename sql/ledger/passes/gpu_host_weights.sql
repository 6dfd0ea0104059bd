-- The weights of _gpu_weights (gpu_weights.sql) per host, bucket (its start as a timestamp), model
-- and reason, as pipeline.ledger.gpu.Weights holds them: `weight` and `gpu_units`.

select
    hostname,
    make_timestamp(bucket) as bucket,
    model_id,
    unallocated_reason,
    w::bigint as weight,
    gpu_units::bigint as gpu_units
from _gpu_weights
