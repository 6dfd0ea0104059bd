create table if not exists ledger.cost_ledger_candidate as
select * from ledger.cost_ledger limit 0;
comment on table ledger.cost_ledger_candidate is 'Same shape as ledger.cost_ledger: each period as last built (ledger.candidate_builds), validated, then copied to ledger.cost_ledger by publish. Kept between runs: the next build of the period changes only the rows its new inputs change.';
comment on column ledger.cost_ledger_candidate.charge_date is 'As ledger.cost_ledger.charge_date.';
comment on column ledger.cost_ledger_candidate.billing_period is 'As ledger.cost_ledger.billing_period.';
comment on column ledger.cost_ledger_candidate.model_id is 'As ledger.cost_ledger.model_id.';
comment on column ledger.cost_ledger_candidate.category is 'As ledger.cost_ledger.category.';
comment on column ledger.cost_ledger_candidate.subcategory is 'As ledger.cost_ledger.subcategory.';
comment on column ledger.cost_ledger_candidate.billed_cost is 'As ledger.cost_ledger.billed_cost.';
comment on column ledger.cost_ledger_candidate.effective_cost is 'As ledger.cost_ledger.effective_cost.';
comment on column ledger.cost_ledger_candidate.currency is 'As ledger.cost_ledger.currency.';
comment on column ledger.cost_ledger_candidate.source_amount is 'As ledger.cost_ledger.source_amount.';
comment on column ledger.cost_ledger_candidate.source_effective_amount is 'As ledger.cost_ledger.source_effective_amount.';
comment on column ledger.cost_ledger_candidate.source_currency is 'As ledger.cost_ledger.source_currency.';
comment on column ledger.cost_ledger_candidate.fx_rate is 'As ledger.cost_ledger.fx_rate.';
comment on column ledger.cost_ledger_candidate.quantity is 'As ledger.cost_ledger.quantity.';
comment on column ledger.cost_ledger_candidate.quantity_unit is 'As ledger.cost_ledger.quantity_unit.';
comment on column ledger.cost_ledger_candidate.source is 'As ledger.cost_ledger.source.';
comment on column ledger.cost_ledger_candidate.provider is 'As ledger.cost_ledger.provider.';
comment on column ledger.cost_ledger_candidate.allocation_method is 'As ledger.cost_ledger.allocation_method.';
comment on column ledger.cost_ledger_candidate.allocation_share is 'As ledger.cost_ledger.allocation_share.';
comment on column ledger.cost_ledger_candidate.unallocated_reason is 'As ledger.cost_ledger.unallocated_reason.';
comment on column ledger.cost_ledger_candidate.lineage_id is 'As ledger.cost_ledger.lineage_id.';
comment on column ledger.cost_ledger_candidate.source_ref is 'As ledger.cost_ledger.source_ref.';
comment on column ledger.cost_ledger_candidate.run_id is 'The run_id of the build that wrote the row (a later build keeps it; the period''s run is ledger.candidate_builds.run_id, which publish gives every published row).';
-- a warehouse created before these columns: its kept rows are of an older recipe and are built
-- again from nothing, so they are only emptied here
alter table ledger.cost_ledger_candidate add column if not exists cost_basis varchar;
alter table ledger.cost_ledger_candidate add column if not exists phase varchar;
alter table ledger.cost_ledger_candidate add column if not exists economic_cost decimal(38, 18);
delete from ledger.cost_ledger_candidate where cost_basis is null;
comment on column ledger.cost_ledger_candidate.cost_basis is 'As ledger.cost_ledger.cost_basis.';
comment on column ledger.cost_ledger_candidate.phase is 'As ledger.cost_ledger.phase.';
comment on column ledger.cost_ledger_candidate.economic_cost is 'As ledger.cost_ledger.economic_cost.';
-- not in ledger.cost_ledger: what validation's day digests add up (sql/checks/day_digests.sql)
alter table ledger.cost_ledger_candidate add column if not exists row_hash ubigint;
comment on column ledger.cost_ledger_candidate.row_hash is 'Hash of the row''s every column but run_id (pipeline.columns.ROW_HASH), written with the row. Null for a row changed in place (its FX rate restated: fx_restated.sql) and for rows written before the column: validation hashes those as it reads them.';
-- replaced by the kept candidate: the unconverted parts of billing rows routed on their own
drop table if exists ledger.billing_parts;
