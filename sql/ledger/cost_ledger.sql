create table if not exists ledger.cost_ledger (
    charge_date              date not null,
    billing_period           varchar not null,
    model_id                 varchar not null,
    category                 varchar not null,
    subcategory              varchar not null,
    billed_cost              decimal(38, 18) not null,
    effective_cost           decimal(38, 18) not null,
    currency                 varchar not null,
    source_amount            decimal(38, 18) not null,
    source_effective_amount  decimal(38, 18) not null,
    source_currency          varchar not null,
    fx_rate                  decimal(38, 10) not null,
    quantity                 decimal(38, 9),
    quantity_unit            varchar,
    source                   varchar not null,
    provider                 varchar not null,
    allocation_method        varchar not null,
    allocation_share         decimal(38, 18) not null,
    unallocated_reason       varchar,
    lineage_id               varchar not null,
    source_ref               varchar not null,
    run_id                   varchar not null,
    cost_basis               varchar not null,
    phase                    varchar not null,
    economic_cost            decimal(38, 18) not null
);
-- a warehouse created before these columns: opportunity rows are the milestones' (their amount
-- moves from billed and effective cost to economic cost); every other row is cash, inference
alter table ledger.cost_ledger add column if not exists cost_basis varchar;
alter table ledger.cost_ledger add column if not exists phase varchar;
alter table ledger.cost_ledger add column if not exists economic_cost decimal(38, 18);
update ledger.cost_ledger set
    cost_basis = case when source = 'milestones' then 'opportunity' else 'cash' end,
    phase = case when source = 'milestones' then 'shared' else 'inference' end,
    economic_cost = effective_cost,
    billed_cost = case when source = 'milestones' then 0 else billed_cost end,
    effective_cost = case when source = 'milestones' then 0 else effective_cost end,
    source_amount = case when source = 'milestones' then 0 else source_amount end
where cost_basis is null;
comment on table ledger.cost_ledger is 'One row per day, model, category, subcategory and source record (or split of one): the cost ledger. Partitioned by billing_period: a run replaces whole periods in one transaction.';
comment on column ledger.cost_ledger.charge_date is 'Day the cost was incurred (UTC).';
comment on column ledger.cost_ledger.billing_period is 'Billing period YYYY-MM: the invoice month for billing rows, the month of charge_date otherwise.';
comment on column ledger.cost_ledger.model_id is 'Registered model, or __idle__ (paid GPU time no workload held), __unallocated__ (no rule matched; see unallocated_reason) or __shared__ (platform cost kept undistributed).';
comment on column ledger.cost_ledger.category is 'hardware, software, data, labor, operational or time.';
comment on column ledger.cost_ledger.subcategory is 'Finer bucket inside the category, e.g. gpu_compute, storage, egress, energy, depreciation.';
comment on column ledger.cost_ledger.billed_cost is 'Invoiced cost in the reporting currency, exact (source_amount x fx_rate, rounded half-even to 18 decimals before splitting). Cash only: 0 on opportunity rows.';
comment on column ledger.cost_ledger.effective_cost is 'Amortised cost in the reporting currency, exact: the headline (cash) cost. 0 on opportunity rows (their amount is in economic_cost).';
comment on column ledger.cost_ledger.currency is 'Reporting currency (ISO 4217).';
comment on column ledger.cost_ledger.source_amount is 'This row''s share of the billed amount in the source currency, exact (0 on opportunity rows: nothing was billed).';
comment on column ledger.cost_ledger.source_effective_amount is 'This row''s share of the effective amount in the source currency, exact; on an opportunity row the cost of delay, which economic_cost carries converted.';
comment on column ledger.cost_ledger.source_currency is 'Currency the source stated the amount in.';
comment on column ledger.cost_ledger.fx_rate is 'Reporting-currency units per source-currency unit on charge_date (1 when they are the same).';
comment on column ledger.cost_ledger.quantity is 'This row''s share of the quantity behind the cost.';
comment on column ledger.cost_ledger.quantity_unit is 'Unit of quantity: GPU-hours, kWh, person-days, days, or the provider''s unit.';
comment on column ledger.cost_ledger.source is 'Input family the cost came from: billing, assets, energy, labor, charges or milestones.';
comment on column ledger.cost_ledger.provider is 'Cloud provider, vendor, or "owned" for the company''s own hardware.';
comment on column ledger.cost_ledger.allocation_method is 'How the row was attributed: direct, gpu_time, energy, shared_pool, labor_share, delay, service_period or unallocated.';
comment on column ledger.cost_ledger.allocation_share is 'Fraction of the source amount this row received (before remainder cents), 1 for direct rows.';
comment on column ledger.cost_ledger.unallocated_reason is 'Why the cost is __unallocated__ (e.g. no_matching_rule, telemetry_gap); null otherwise.';
comment on column ledger.cost_ledger.lineage_id is 'Unique key of this row: a hash of its source record and split.';
comment on column ledger.cost_ledger.source_ref is 'Where it came from: load_id:row_number for a source row, or the pool/host and interval for an aggregate.';
comment on column ledger.cost_ledger.cost_basis is 'cash (backed by a bill, a depreciation schedule, payroll or an invoice) or opportunity (cost of delay from milestones: billed_cost and effective_cost 0, the amount in economic_cost).';
comment on column ledger.cost_ledger.phase is 'Lifecycle phase: training, fine_tuning, inference, experimentation, data_preparation or shared; from the workload rule that placed the GPU time ([[workloads]] phase), else the source''s default ([phases], meta.phase_defaults). Unit costs of serving read inference rows only.';
comment on column ledger.cost_ledger.economic_cost is 'Economic cost in the reporting currency, exact: effective_cost on cash rows, the cost of delay on opportunity rows; sums to cash + opportunity cost.';
comment on column ledger.cost_ledger.run_id is 'The build that wrote the row as it is published: a deterministic build id, a hash of the period, the input file checksums, the config and the code version (the same inputs give the same run_id). A row unchanged by later builds keeps it; the build a period was last published from is the run_id of its last successful publish in meta.runs.';
