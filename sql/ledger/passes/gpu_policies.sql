-- _gpu_policies: one row per GPU pool (or the owned servers) and its allocation policy, filled by
-- pipeline.ledger.gpu.policies.

create or replace temp table _gpu_policies (
    pool        varchar,
    policy      varchar,
    idle        varchar,
    mig_slices  integer,
    replicas    integer
)
