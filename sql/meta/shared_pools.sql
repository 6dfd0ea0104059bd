create table if not exists meta.shared_pools (
    pool_order        integer not null,
    name              varchar not null,
    charge_category   varchar,
    service_name      varchar,
    service_category  varchar,
    policy            varchar not null
);
alter table meta.shared_pools add column if not exists weight_window varchar;
comment on table meta.shared_pools is 'One row per [[shared_pools]] entry of the configuration the last ledger build ran with: platform cost distributed by a declared policy (a billing row belongs to the first pool whose every given pattern matches).';
comment on column meta.shared_pools.pool_order is 'Position in the configuration (1 = first).';
comment on column meta.shared_pools.name is 'Pool name.';
comment on column meta.shared_pools.charge_category is 'Regular expression (RE2) matched in full against ChargeCategory; null: not tested.';
comment on column meta.shared_pools.service_name is 'Regular expression (RE2) matched in full against ServiceName; null: not tested.';
comment on column meta.shared_pools.service_category is 'Regular expression (RE2) matched in full against ServiceCategory; null: not tested.';
comment on column meta.shared_pools.policy is 'proportional (to each model''s direct and GPU-pool effective cost, in whole cents, of the charge day or the period: weight_window), even, fixed (meta.shared_pool_weights) or keep (stays __shared__).';
comment on column meta.shared_pools.weight_window is 'policy proportional: day (a day''s share of a row follows that charge day''s direct cost) or month (the billing period''s).';
