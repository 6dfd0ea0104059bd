create table if not exists meta.gpu_pools (
    pool_order           integer not null,
    name                 varchar not null,
    node_pattern         varchar not null,
    resource_id_pattern  varchar,
    gpus_per_node        integer not null,
    policy               varchar not null,
    idle                 varchar not null
);
comment on table meta.gpu_pools is 'One row per [[gpu_pools]] entry of the configuration the last ledger build ran with: the cloud GPU node pools whose node costs are split by GPU time held.';
comment on column meta.gpu_pools.pool_order is 'Position in the configuration (1 = first); a node belongs to the first pool that matches it.';
comment on column meta.gpu_pools.name is 'Pool name.';
comment on column meta.gpu_pools.node_pattern is 'Billing ResourceName (node host name) of its nodes, a regular expression matched in full.';
comment on column meta.gpu_pools.resource_id_pattern is 'Billing ResourceId (e.g. the instance id or ARN) of its nodes, a regular expression matched in full; null when nodes are matched by name only.';
comment on column meta.gpu_pools.gpus_per_node is 'GPUs on each node.';
comment on column meta.gpu_pools.policy is 'gpu_time or utilisation.';
comment on column meta.gpu_pools.idle is 'keep (idle GPU time stays __idle__) or redistribute.';
