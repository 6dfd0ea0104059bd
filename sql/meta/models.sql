create table if not exists meta.models (
    model_order    integer not null,
    model_id       varchar not null,
    name           varchar not null,
    business_line  varchar not null,
    owner          varchar not null
);
comment on table meta.models is 'One row per [[models]] entry of the configuration the last ledger build ran with: the registered models (anything else a tag or rule names is __unallocated__).';
comment on column meta.models.model_order is 'Position in the configuration (1 = first).';
comment on column meta.models.model_id is 'Model id, as ledger.cost_ledger.model_id.';
comment on column meta.models.name is 'Display name.';
comment on column meta.models.business_line is 'Business line.';
comment on column meta.models.owner is 'Owner.';
