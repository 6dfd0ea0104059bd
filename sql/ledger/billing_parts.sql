create table if not exists ledger.billing_parts (
    recipe                   varchar not null,
    load_id                  varchar not null,
    billing_period           varchar not null,
    charge_date              date not null,
    model_id                 varchar not null,
    category                 varchar not null,
    subcategory              varchar not null,
    source_amount            decimal(38, 18) not null,
    source_effective_amount  decimal(38, 18) not null,
    source_currency          varchar not null,
    quantity                 decimal(38, 9),
    quantity_unit            varchar,
    source                   varchar not null,
    provider                 varchar,
    allocation_method        varchar not null,
    allocation_share         decimal(38, 18) not null,
    unallocated_reason       varchar,
    source_ref               varchar not null,
    split_key                varchar
);
comment on table ledger.billing_parts is 'Allocated parts of billing rows routed on their own (direct, commitment purchase, unallocated), per file version, before currency conversion: a build allocates only the files it has not seen under the same recipe and reuses these, so a nightly run costs the new day, not the month. Rebuildable: deleting rows only makes the next build slower.';
comment on column ledger.billing_parts.recipe is 'Digest of the config, the category rules and the allocation code the parts were made with; parts of another recipe are never used.';
comment on column ledger.billing_parts.load_id is 'The billing file version (meta.loads.load_id) the rows came from.';
comment on column ledger.billing_parts.billing_period is 'As ledger.cost_ledger.billing_period.';
comment on column ledger.billing_parts.charge_date is 'As ledger.cost_ledger.charge_date.';
comment on column ledger.billing_parts.model_id is 'As ledger.cost_ledger.model_id.';
comment on column ledger.billing_parts.category is 'As ledger.cost_ledger.category.';
comment on column ledger.billing_parts.subcategory is 'As ledger.cost_ledger.subcategory.';
comment on column ledger.billing_parts.source_amount is 'As ledger.cost_ledger.source_amount.';
comment on column ledger.billing_parts.source_effective_amount is 'As ledger.cost_ledger.source_effective_amount.';
comment on column ledger.billing_parts.source_currency is 'As ledger.cost_ledger.source_currency.';
comment on column ledger.billing_parts.quantity is 'As ledger.cost_ledger.quantity.';
comment on column ledger.billing_parts.quantity_unit is 'As ledger.cost_ledger.quantity_unit.';
comment on column ledger.billing_parts.source is 'As ledger.cost_ledger.source.';
comment on column ledger.billing_parts.provider is 'As ledger.cost_ledger.provider.';
comment on column ledger.billing_parts.allocation_method is 'As ledger.cost_ledger.allocation_method.';
comment on column ledger.billing_parts.allocation_share is 'As ledger.cost_ledger.allocation_share.';
comment on column ledger.billing_parts.unallocated_reason is 'As ledger.cost_ledger.unallocated_reason.';
comment on column ledger.billing_parts.source_ref is 'As ledger.cost_ledger.source_ref.';
comment on column ledger.billing_parts.split_key is 'Which split of the source row this part is (part of ledger.cost_ledger.lineage_id).';
