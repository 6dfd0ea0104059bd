"""Validate a candidate ledger period with Great Expectations before it is published.

Each suite is a Great Expectations 1.x `ExpectationSuite` stored as JSON in
`expectations/<name>.json` (the format `ExpectationSuite.to_json_dict()` writes), with two project
keys in the suite's `meta`:
`frame`, the DuckDB query it runs on (see FRAMES), and `index_columns`, the columns that identify
an unexpected row in the observed text. Each expectation states its `severity`: `critical` blocks
the publish ("fail"), `warning` is only recorded ("warn").

Money never reaches Great Expectations as a number it could round: exact comparisons are made in
DuckDB on DECIMAL columns and handed over as booleans (`billed_exact`) beside the difference as
text.
Great Expectations is imported inside the functions that use it: importing this module is cheap.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline.columns import CATEGORIES, COST_BASES, PHASES, AllocationMethod, Bucket
from pipeline.errors import ConfigError, ValidationFailed
from pipeline.warehouse import transaction

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
# Great Expectations' FailureSeverity -> the project's severity.
SEVERITIES: Mapping[str, str] = {"critical": "fail", "warning": "warn"}
# Values the suites refer to as {"$PARAMETER": name}: declared once, in pipeline.columns.
SUITE_PARAMETERS: Mapping[str, list[str]] = {
    "categories": list(CATEGORIES),
    "allocation_methods": [m.value for m in AllocationMethod],
    "cost_bases": list(COST_BASES),
    "phases": list(PHASES),
}
DATA_DOCS_SITE = "costledger"
MAX_EXAMPLES = 5
DECIMAL_TEXT = re.compile(r"^-?[0-9]+\.[0-9]+$")

# Candidate ledger rows of the period; money as float (warn checks only). A month can hold tens of
# millions of rows, too many to hand to pandas: GX sees every row that breaks a fail rule of the
# suites on this frame (`{suspect}`, written from the suites by `suspect_sql`, found here in
# DuckDB) plus the first $sample rows by lineage id (digests: a fixed pseudo-random sample, for
# the `mostly` warnings). A candidate of up to $sample rows is seen whole.
LEDGER_ROWS_SQL = """
with candidate as (
    select *
    from ledger.cost_ledger_candidate
    where billing_period = $period
),

final as (
    select
        lineage_id,
        model_id,
        category,
        subcategory,
        currency,
        source_currency,
        run_id,
        charge_date,
        allocation_method,
        cost_basis,
        phase,
        -- an opportunity row (cost of delay) bills nothing and amortises nothing: its amount is economic_cost
        cost_basis = 'cash' or (billed_cost = 0 and effective_cost = 0) as opportunity_unbilled,
        cast(billed_cost as double) as billed_cost,
        cast(effective_cost as double) as effective_cost,
        not coalesce(model_id = $unallocated and unallocated_reason is null, false)
            as unallocated_reason_given
    from candidate
),

sampled as (
    select max(lineage_id) as last_id
    from (select lineage_id from final order by lineage_id limit $sample)
),

picked as (
    select *
    from final
    where coalesce({suspect}, false) or lineage_id <= (select last_id from sampled)
)

select * from picked
order by lineage_id
"""
LEDGER_SAMPLE_ROWS = 50_000

# One row per provider and billing currency of the period, on either side: the source bill
# (staging.billing) against the candidate's billing rows, compared exactly.
BILLING_CONSERVATION_SQL = """
with source_totals as (
    select
        ProviderName as provider,
        BillingCurrency as currency,
        sum(BilledCost) as billed,
        sum(EffectiveCost) as effective
    from staging.billing
    where x_BillingPeriod = $period
    group by ProviderName, BillingCurrency
),

candidate_totals as (
    select
        provider,
        source_currency as currency,
        sum(source_amount) as billed,
        sum(source_effective_amount) as effective
    from ledger.cost_ledger_candidate
    where billing_period = $period and source = 'billing'
    group by provider, source_currency
),

compared as (
    select
        coalesce(s.provider, c.provider) as provider,
        coalesce(s.currency, c.currency) as currency,
        s.billed as source_billed,
        c.billed as candidate_billed,
        s.effective as source_effective,
        c.effective as candidate_effective,
        coalesce(c.billed, 0) - coalesce(s.billed, 0) as billed_difference,
        coalesce(c.effective, 0) - coalesce(s.effective, 0) as effective_difference
    from source_totals as s
    full outer join candidate_totals as c
        on s.provider = c.provider and s.currency = c.currency
),

final as (
    select
        $period as billing_period,
        provider,
        currency,
        coalesce(cast(source_billed as varchar), 'missing') as source_billed,
        coalesce(cast(candidate_billed as varchar), 'missing') as candidate_billed,
        cast(billed_difference as varchar) as billed_difference,
        billed_difference = 0 as billed_exact,
        coalesce(cast(source_effective as varchar), 'missing') as source_effective,
        coalesce(cast(candidate_effective as varchar), 'missing') as candidate_effective,
        cast(effective_difference as varchar) as effective_difference,
        effective_difference = 0 as effective_exact
    from compared
)

select * from final
order by provider, currency
"""

# One row per pay currency of the month (= period), on either side: the candidate's labor rows
# (allocated at standard rates), summed in the shared warehouse as candidate_totals, against the
# restricted HR database's labor_variance, compared there: allocated + variance = HR cost,
# exactly. Only the verdict leaves the restricted database: neither the HR total nor a difference
# (which could be one person's pay) reaches meta.check_results.
LABOR_CANDIDATE_SQL = """
select source_currency as currency, sum(source_amount) as cost
from ledger.cost_ledger_candidate
where billing_period = $period and source = 'labor'
group by source_currency
"""

LABOR_CONSERVATION_SQL = """
with hr as (
    select currency, hr_cost, variance
    from labor_variance
    where month = $period
),

compared as (
    select
        coalesce(h.currency, c.currency) as currency,
        coalesce(h.currency is not null and coalesce(c.cost, 0) + h.variance = h.hr_cost, false) as cost_exact
    from hr as h
    full outer join candidate_totals as c
        on c.currency = h.currency
),

final as (
    select $period as month, currency, cost_exact
    from compared
)

select * from final
order by currency
"""

# One row per published labor figure of the month: each staging.labor cell, each standard rate
# of a rate period covering the month, and each (model, cell) of the candidate's labor rows, with
# whether it stands for at least k people (the k of the last labor build). A candidate labor row
# with no cell behind it counts as fewer.
LABOR_PRIVACY_SQL = """
with k as (
    select max(k_anonymity) as k
    from meta.labor_build
),

cells as (
    select 'cell' as figure, month, model_id, role, currency, headcount
    from staging.labor
    where month = $period
),

rates as (
    select 'rate' as figure, $period as month, null as model_id, role, currency, headcount
    from staging.labor_rates
    where $period between first_month and last_month
),

ledger_rows as (
    select distinct
        'ledger' as figure, c.billing_period as month, c.model_id, c.subcategory as role,
        c.source_currency as currency, s.headcount
    from ledger.cost_ledger_candidate as c
    left join staging.labor as s
        on s.month = c.billing_period and s.model_id = c.model_id and s.role = c.subcategory
        and s.currency = c.source_currency
    where c.billing_period = $period and c.source = 'labor'
),

final as (
    select figure, month, model_id, role, currency, coalesce(headcount >= (select k from k), false) as at_least_k
    from (select * from cells union all select * from rates union all select * from ledger_rows)
)

select * from final
order by figure, model_id, role, currency
"""

# One row per input file loaded (status 'loaded') whose rows fall in the period, or that dates
# no period, and per file rejected for its bad rows that no later delivery at its path replaced:
# the counts meta.loads claims against the rows actually in raw, staging and meta.quarantine
# (invariant 4, nothing lost; a rejected file has every row in meta.quarantine and none elsewhere).
# {staged} is the union of every staging table with load_id and row_number, read from the catalog
# (see load_balance_sql).
LOAD_BALANCE_SQL = """
with loads as (
    select load_id, source, path, detected_format, rows_in, rows_loaded, rows_quarantined, status
    from meta.loads as l
    where ($period is null or list_contains(periods, $period) or len(periods) = 0)
        and (
            status = 'loaded'
            or status = 'rejected' and rows_in > 0 and not exists (
                select 1 from meta.loads as later
                where later.source = l.source and later.path = l.path and later.loaded_at > l.loaded_at
            )
        )
),

raw_rows as (
    select load_id, count(*) as raw_rows
    from raw.source_rows
    where load_id in (select load_id from loads)
    group by load_id
),

staged as not materialized (  -- read twice below: inlined, never held (tens of millions of rows)
    {staged}
),

-- distinct rows per staging table (a file loads into one), summed: one distinct over the union
-- of every table would hold tens of millions of pairs at once
staged_rows as (
    select load_id, sum(rows)::bigint as staged_rows
    from ({staged_counts})
    where load_id in (select load_id from loads)
    group by load_id
),

quarantined as (
    select load_id, count(distinct row_number) as quarantined_rows
    from meta.quarantine
    where load_id in (select load_id from loads)
    group by load_id
),

-- rows a later export of their account replaced (meta.replaced_rows): loaded, then restated
replaced as (
    select load_id, count(distinct row_number) as replaced_rows
    from meta.replaced_rows
    where load_id in (select load_id from loads)
    group by load_id
),

overlap as (
    select s.load_id, count(distinct s.row_number) as both_rows
    from staged as s
    semi join meta.quarantine as q
        on q.load_id = s.load_id and q.row_number = s.row_number
    group by s.load_id
),

counted as (
    select
        l.*,
        coalesce(r.raw_rows, 0) as raw_rows,
        coalesce(s.staged_rows, 0) as staged_rows,
        coalesce(q.quarantined_rows, 0) as quarantined_rows,
        coalesce(o.both_rows, 0) as both_rows,
        coalesce(x.replaced_rows, 0) as replaced_rows
    from loads as l
    left join raw_rows as r using (load_id)
    left join staged_rows as s using (load_id)
    left join quarantined as q using (load_id)
    left join overlap as o using (load_id)
    left join replaced as x using (load_id)
),

final as (
    select
        load_id,
        path,
        rows_in,
        rows_loaded,
        rows_quarantined,
        raw_rows,
        staged_rows,
        quarantined_rows,
        rows_in = rows_loaded + rows_quarantined
        and (
            status = 'rejected' and rows_loaded = 0 and raw_rows = 0 and staged_rows = 0
                and quarantined_rows = rows_quarantined
            or status = 'loaded' and source = 'labor'  -- HR rows live only in the restricted database
            or status = 'loaded' and (
                raw_rows = rows_in
                and quarantined_rows = rows_quarantined
                and both_rows = 0
                -- a telemetry series of "not supported" sentinels loads no sample
                and (staged_rows + replaced_rows = rows_loaded or (source = 'telemetry' and staged_rows <= rows_loaded))
            )
        ) as balanced,
        rows_quarantined = 0 as clean
    from counted
)

select * from final
order by path, load_id
"""


# One row per provider and billing currency of the period's staging.billing: counts of rows that
# break a staging rule (aggregated here so Great Expectations sees a few rows, not millions).
STAGING_BILLING_SQL = """
with billing as (
    select *
    from staging.billing
    where x_BillingPeriod = $period
),

final as (
    select
        $period as billing_period,
        ProviderName as provider,
        BillingCurrency as currency,
        count(*) as row_count,
        count(*) filter (not regexp_full_match(coalesce(BillingCurrency, ''), '[A-Z]{3}')) as bad_currency_rows,
        count(*) filter (ChargePeriodEnd < ChargePeriodStart) as inverted_period_rows,
        count(*) filter (BilledCost is null or EffectiveCost is null) as missing_cost_rows,
        count(*) filter (ChargePeriodStart < BillingPeriodStart) as late_charge_rows
    from billing
    group by ProviderName, BillingCurrency
)

select * from final
order by provider, currency
"""


# One row per provider, billing account, invoice (null = not final) and currency of the period,
# on any side: the bill (staging.billing), the candidate's billing rows traced to their charges
# (source_ref), and the invoices file (staging.invoices), compared exactly (issue: reconciliation
# per invoice). Null-safe keys: a bill that is not final still reconciles, as one null invoice.
INVOICE_RECONCILIATION_SQL = """
with charges as (
    select
        load_id || ':' || row_number as source_ref,
        ProviderName as provider,
        BillingAccountId as billing_account_id,
        InvoiceId as invoice_id,
        BillingCurrency as currency,
        BilledCost as billed,
        EffectiveCost as effective
    from staging.billing
    where x_BillingPeriod = $period
),

source_totals as (
    select provider, billing_account_id, invoice_id, currency, sum(billed) as billed, sum(effective) as effective
    from charges
    group by provider, billing_account_id, invoice_id, currency
),

candidate_totals as (
    select
        coalesce(ch.provider, c.provider) as provider,
        ch.billing_account_id,
        ch.invoice_id,
        c.source_currency as currency,
        sum(c.source_amount) as billed,
        sum(c.source_effective_amount) as effective
    from ledger.cost_ledger_candidate as c
    left join charges as ch
        on ch.source_ref = c.source_ref
    where c.billing_period = $period and c.source = 'billing'
    group by coalesce(ch.provider, c.provider), ch.billing_account_id, ch.invoice_id, c.source_currency
),

invoice_totals as (
    select
        coalesce(i.provider, p.provider) as provider,
        i.billing_account_id,
        i.invoice_id,
        i.currency,
        sum(i.total) as total
    from staging.invoices as i
    left join (select distinct provider, billing_account_id, invoice_id from charges) as p
        on p.billing_account_id = i.billing_account_id and p.invoice_id = i.invoice_id and i.provider is null
    where i.billing_period = $period
    group by coalesce(i.provider, p.provider), i.billing_account_id, i.invoice_id, i.currency
),

bill_and_candidate as (
    select
        coalesce(s.provider, c.provider) as provider,
        coalesce(s.billing_account_id, c.billing_account_id) as billing_account_id,
        coalesce(s.invoice_id, c.invoice_id) as invoice_id,
        coalesce(s.currency, c.currency) as currency,
        s.billed as source_billed,
        c.billed as candidate_billed,
        s.effective as source_effective,
        c.effective as candidate_effective
    from source_totals as s
    full outer join candidate_totals as c
        on c.provider = s.provider
        and c.billing_account_id is not distinct from s.billing_account_id
        and c.invoice_id is not distinct from s.invoice_id
        and c.currency = s.currency
),

compared as (
    select
        coalesce(b.provider, i.provider) as provider,
        coalesce(b.billing_account_id, i.billing_account_id) as billing_account_id,
        coalesce(b.invoice_id, i.invoice_id) as invoice_id,
        coalesce(b.currency, i.currency) as currency,
        b.source_billed,
        b.candidate_billed,
        b.source_effective,
        b.candidate_effective,
        i.total as invoice_total,
        coalesce(b.candidate_billed, 0) - coalesce(b.source_billed, 0) as billed_difference,
        coalesce(b.candidate_effective, 0) - coalesce(b.source_effective, 0) as effective_difference,
        coalesce(b.source_billed, 0) - i.total as invoice_difference
    from bill_and_candidate as b
    full outer join invoice_totals as i
        on i.provider is not distinct from b.provider
        and i.billing_account_id = b.billing_account_id
        and i.invoice_id = b.invoice_id
        and i.currency = b.currency
),

final as (
    select
        $period as billing_period,
        provider,
        coalesce(billing_account_id, 'none') as billing_account_id,
        coalesce(invoice_id, 'not final') as invoice_id,
        currency,
        coalesce(cast(source_billed as varchar), 'missing') as source_billed,
        coalesce(cast(candidate_billed as varchar), 'missing') as candidate_billed,
        cast(billed_difference as varchar) as billed_difference,
        billed_difference = 0 as billed_exact,
        cast(effective_difference as varchar) as effective_difference,
        effective_difference = 0 as effective_exact,
        coalesce(cast(invoice_total as varchar), 'none') as invoice_total,
        coalesce(cast(invoice_difference as varchar), 'none') as invoice_difference,
        coalesce(invoice_difference = 0, true) as invoice_exact
    from compared
)

select * from final
order by provider, billing_account_id, invoice_id, currency
"""


# One row for the period (none when it has neither candidate rows nor a bill): the marts as they
# will read once the candidate is published, each rule a count of the mart rows that break it.
# Every {marts.<name>} is that mart's own query from sql/marts/<name>.sql (see marts_sql), reading
# the period's candidate in place of ledger.cost_ledger; reconciliation and totals compare exact
# decimals here, so Great Expectations only sees counts.
MARTS_SQL = """
with candidate as (
    select * from ledger.cost_ledger_candidate
    where billing_period = $period
),

billing_reconciliation as (
    select * from ({marts.billing_reconciliation})
    where billing_period = $period
),

invoice_reconciliation as (
    select * from ({marts.invoice_reconciliation})
    where billing_period = $period
),

-- per mart that adds up ledger money, and currency: its totals against the candidate's
mart_totals as (
    select 'daily_model_cost' as mart, currency, sum(billed_cost) as billed, sum(effective_cost) as effective,
        sum(economic_cost) as economic
    from ({marts.daily_model_cost})
    group by currency
    union all
    select 'monthly_model_cost', currency, sum(billed_cost), sum(effective_cost), sum(economic_cost)
    from ({marts.monthly_model_cost})
    group by currency
    union all
    select 'unit_costs', currency, null, sum(effective_cost), null  -- no billed (or economic) cost in this mart
    from ({marts.unit_costs})
    group by currency
    union all
    select 'idle_unallocated', currency, sum(billed_cost), sum(effective_cost), null
    from ({marts.idle_unallocated})
    group by currency
    union all
    select 'daily_team_cost', currency, sum(billed_cost), sum(effective_cost), null
    from ({marts.daily_team_cost})
    group by currency
    union all
    select 'monthly_team_cost', currency, sum(billed_cost), sum(effective_cost), null
    from ({marts.monthly_team_cost})
    group by currency
    union all
    select 'monthly_unit_costs', currency, null, sum(effective_cost), null  -- no billed cost in this mart
    from ({marts.monthly_unit_costs})
    group by currency
),

expected_totals as (
    select
        marts.mart,
        c.currency,
        case when marts.mart in ('unit_costs', 'monthly_unit_costs') then null else sum(c.billed_cost) end as billed,
        sum(c.effective_cost) as effective,
        -- economic cost (cash + cost of delay) in the model cost marts
        case when marts.mart in ('daily_model_cost', 'monthly_model_cost') then sum(c.economic_cost) end as economic
    from candidate as c,
        (values ('daily_model_cost', false, false), ('monthly_model_cost', false, false), ('unit_costs', false, true),
            ('idle_unallocated', true, false), ('daily_team_cost', false, false), ('monthly_team_cost', false, false),
            ('monthly_unit_costs', false, true)) as marts (mart, buckets_only, serving_only)
    where (not marts.buckets_only or c.model_id in ('__idle__', '__unallocated__', '__shared__'))
        and (not marts.serving_only or c.phase = 'inference')  -- unit costs are the cost of serving
    group by marts.mart, c.currency
),

unbalanced_totals as (
    select coalesce(m.mart, e.mart) as mart, coalesce(m.currency, e.currency) as currency
    from mart_totals as m
    full outer join expected_totals as e
        on e.mart = m.mart and e.currency = m.currency
    where m.billed is distinct from e.billed or m.effective is distinct from e.effective
        or m.economic is distinct from e.economic
),

unit_costs as materialized (  -- read by several counts below: computed once
    select * from ({marts.unit_costs})
),

gpu_efficiency as materialized (  -- read by several counts below: computed once
    select * from ({marts.gpu_efficiency})
),

commitments as materialized (  -- read by two counts below: computed once
    select * from ({marts.commitments})
    where billing_period = $period
),

-- commitments: the mart's used + unused cost per provider and currency against the candidate's
-- rows traced (source_ref) to the commitment charges they came from
commitment_charges as (
    select load_id || ':' || row_number as source_ref, ProviderName as provider, BillingCurrency as currency
    from staging.billing
    where x_BillingPeriod = $period and CommitmentDiscountId is not null and ChargeCategory in ('Purchase', 'Usage')
),

commitment_ledger as (
    select ch.provider, ch.currency, sum(c.source_effective_amount) as effective
    from candidate as c
    inner join commitment_charges as ch
        on ch.source_ref = c.source_ref
    where c.source = 'billing'
    group by ch.provider, ch.currency
),

commitment_mart as (
    select provider, currency, sum(commitment_cost) as effective
    from commitments
    group by provider, currency
),

final as (
    select
        $period as billing_period,
        (select count(*) from billing_reconciliation
            where billed_difference <> 0 or effective_difference <> 0) as billing_reconciliation_unbalanced,
        (select count(*) from invoice_reconciliation
            where billed_difference <> 0 or effective_difference <> 0 or coalesce(invoice_difference, 0) <> 0)
            as invoice_reconciliation_unbalanced,
        (select count(*) from unbalanced_totals) as mart_totals_unbalanced,
        (select count(*) from unit_costs
            where cost_per_1k_requests < 0 or cost_per_1m_tokens < 0 or cost_per_gpu_hour < 0) as unit_costs_negative,
        (select count(*) from gpu_efficiency where gpu_hours < 0) as gpu_hours_negative,
        (select count(*) from gpu_efficiency
            where mean_utilisation_percent not between 0 and 100 or pool_idle_share not between 0 and 1)
            as gpu_utilisation_out_of_range,
        (select count(*) from commitment_mart as m
            full outer join commitment_ledger as l
                on l.provider = m.provider and l.currency = m.currency
            where m.effective is distinct from l.effective) as commitments_unreconciled,
        (select count(*) from commitments
            where utilisation not between 0 and 1 or coverage not between 0 and 1) as commitment_rates_out_of_range
    where exists (select 1 from candidate)
        or exists (select 1 from staging.billing where x_BillingPeriod = $period)
)

select * from final
"""

MARTS_DIR = Path(__file__).resolve().parent.parent / "sql" / "marts"
_MART_VIEW = re.compile(r"create or replace view marts\.(\w+) as\s*(.*?);\s*comment on view", re.DOTALL)
# What a mart reads, narrowed for validation: the period's candidate stands for the published
# ledger (exactly the rows publish will swap in), and only the period's GPU samples are scanned.
_MART_INPUTS: Mapping[str, str] = {
    r"\bledger\.cost_ledger\b": "(select * from ledger.cost_ledger_candidate where billing_period = $period)",
    r"\bstaging\.gpu_samples\b": (
        "(select * from staging.gpu_samples where ts >= cast($period || '-01' as timestamp) "
        "and ts < cast($period || '-01' as timestamp) + interval 1 month)"
    ),
}


def mart_query(name: str, directory: Path | None = None) -> str:
    """The query of the view marts.<name> (sql/marts/<name>.sql), reading the period's candidate."""
    path = (MARTS_DIR if directory is None else directory) / f"{name}.sql"
    found = _MART_VIEW.search(path.read_text())
    if found is None or found.group(1) != name:
        raise ConfigError(f"{path}: expected 'create or replace view marts.{name} as <query>;' then its comments")
    query = found.group(2)
    for table, narrowed in _MART_INPUTS.items():
        query = re.sub(table, narrowed, query)
    return query


def marts_sql(directory: Path | None = None) -> str:
    """MARTS_SQL with each {marts.<name>} replaced by that mart's query."""
    return re.sub(r"\{marts\.(\w+)\}", lambda m: mart_query(m.group(1), directory), MARTS_SQL)


def load_balance_sql(con: duckdb.DuckDBPyConnection) -> str:
    """LOAD_BALANCE_SQL over every staging table that keeps load_id and row_number."""
    tables = con.execute(
        "select table_name from duckdb_columns() where schema_name = 'staging' "
        "and table_name in (select table_name from duckdb_tables() where schema_name = 'staging') "
        "group by table_name having count(*) filter (column_name in ('load_id', 'row_number')) = 2 "
        "order by table_name"
    ).fetchall()
    staged = "\n    union all\n    ".join(f'select load_id, row_number from staging."{t}"' for (t,) in tables)
    counts = "\n    union all\n    ".join(
        f'select load_id, count(distinct row_number) as rows from staging."{t}" group by load_id' for (t,) in tables
    )
    return LOAD_BALANCE_SQL.replace(
        "{staged}", staged or "select null::varchar as load_id, null::bigint as row_number"
    ).replace("{staged_counts}", counts or "select null::varchar as load_id, 0 as rows")


# Frame name (a suite's meta.frame) -> its query. Every query binds $period; extra bound values
# come from FRAME_PARAMETERS.
FRAMES: Mapping[str, str] = {
    "ledger_rows": LEDGER_ROWS_SQL,
    "billing_conservation": BILLING_CONSERVATION_SQL,
    "labor_conservation": LABOR_CONSERVATION_SQL,
    "labor_privacy": LABOR_PRIVACY_SQL,
    "load_balance": LOAD_BALANCE_SQL,
    "staging_billing": STAGING_BILLING_SQL,
    "invoice_reconciliation": INVOICE_RECONCILIATION_SQL,
    "marts": MARTS_SQL,
}
FRAME_PARAMETERS: Mapping[str, Mapping[str, str]] = {
    "ledger_rows": {"unallocated": Bucket.UNALLOCATED.value},
}

DELETE_RESULTS_SQL = """
delete from meta.check_results
where run_id = $run_id and billing_period = $period
"""

INSERT_RESULT_SQL = """
insert into meta.check_results
    (run_id, billing_period, suite, expectation, "column", severity, success, observed, checked_at)
values (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True)
class CheckResult:
    """One evaluated expectation."""

    suite: str
    expectation: str
    column: str | None
    severity: str  # "fail" | "warn"
    success: bool
    observed: str


@dataclass(frozen=True)
class Suite:
    """A suite file, read and checked: what to run on which frame."""

    name: str
    path: Path
    frame: str
    index_columns: tuple[str, ...]
    definition: dict[str, Any]  # the JSON, as gx.ExpectationSuite(**definition) takes it


def validate_candidate(
    con: duckdb.DuckDBPyConnection,
    *,
    period: str,
    run_id: str,
    data_docs_dir: Path | None = None,
    restricted: Path | None = None,
) -> list[CheckResult]:
    """Run every suite in expectations/ on the candidate ledger rows of `period`, store one row
    per result in meta.check_results (replacing this run_id and period's earlier rows), build
    Data Docs into `data_docs_dir` when given, and raise ValidationFailed naming every failed
    fail-severity expectation. Return the results otherwise. `restricted`: the HR database the
    labor conservation check runs in (default: the workspace's, beside the warehouse)."""
    suites = load_suites()
    frames = {
        name: load_frame(con, name, period=period, suites=[s for s in suites if s.frame == name], restricted=restricted)
        for name in {s.frame for s in suites}
    }
    context = _gx_context(data_docs_dir)
    run_name = f"{period}_{run_id}"
    results = [
        result for suite in suites for result in _run_suite(context, suite, frames[suite.frame], run_name=run_name)
    ]
    record_results(con, results, period=period, run_id=run_id)
    if data_docs_dir is not None:
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    failed = [r for r in results if r.severity == "fail" and not r.success]
    if failed:
        raise ValidationFailed(_failure_message(failed, period=period, run_id=run_id))
    return results


def load_suites(directory: Path | None = None) -> list[Suite]:
    """Every `*.json` suite in `directory` (default EXPECTATIONS_DIR), by file name."""
    directory = EXPECTATIONS_DIR if directory is None else directory
    return [read_suite(path) for path in sorted(directory.glob("*.json"))]


def read_suite(path: Path) -> Suite:
    """One suite file, checked: errors name the file and what was expected."""
    try:
        definition = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON suite: {exc}") from None
    if not isinstance(definition, dict):
        raise ConfigError(f"{path}: a suite is a JSON object with 'name', 'meta', 'expectations'")
    if definition.get("name") != path.stem:
        raise ConfigError(f"{path}: 'name' must be {path.stem!r}, the file's name")
    meta = definition.get("meta") or {}
    if meta.get("frame") not in FRAMES:
        raise ConfigError(f"{path}: meta.frame must be one of {sorted(FRAMES)}")
    for number, expectation in enumerate(definition.get("expectations") or [], start=1):
        if expectation.get("severity") not in SEVERITIES:
            raise ConfigError(f"{path}: expectation {number}: 'severity' must be one of {sorted(SEVERITIES)}")
    return Suite(
        name=path.stem,
        path=path,
        frame=meta["frame"],
        index_columns=tuple(meta.get("index_columns") or ()),
        definition=definition,
    )


def load_frame(
    con: duckdb.DuckDBPyConnection,
    frame: str,
    *,
    period: str,
    suites: Sequence[Suite] = (),
    restricted: Path | None = None,
) -> pd.DataFrame:
    """The frame a suite runs on, computed in DuckDB for one period, as pandas."""
    if frame == "labor_conservation":
        return labor_conservation_frame(con, period=period, restricted=restricted)
    parameters = {"period": period, **FRAME_PARAMETERS.get(frame, {})}
    builders = {"load_balance": lambda: load_balance_sql(con), "marts": marts_sql}
    query = builders[frame]() if frame in builders else FRAMES[frame]
    if frame == "ledger_rows":
        suspect, values = suspect_sql(suites)
        query = query.replace("{suspect}", suspect)
        parameters |= {"sample": LEDGER_SAMPLE_ROWS, **values}
    return con.execute(query, parameters).df()


def labor_conservation_frame(
    con: duckdb.DuckDBPyConnection, *, period: str, restricted: Path | None = None
) -> pd.DataFrame:
    """LABOR_CONSERVATION_SQL, run in the restricted HR database (read-only) on the candidate's
    labor totals; without one (no HR file ever loaded), against no HR cost at all."""
    candidate = con.sql(LABOR_CANDIDATE_SQL, params={"period": period}).pl().to_arrow()
    path = restricted if restricted is not None else _restricted_beside(con)
    hr = duckdb.connect(str(path), read_only=True) if path is not None and path.exists() else duckdb.connect()
    try:
        hr.execute("set enable_progress_bar = false")
        if not hr.execute("select 1 from duckdb_tables() where table_name = 'labor_variance'").fetchall():
            hr.execute(
                "create temp table labor_variance "
                "(month varchar, currency varchar, hr_cost decimal(38, 18), variance decimal(38, 18))"
            )
        hr.register("candidate_totals", candidate)
        return hr.execute(LABOR_CONSERVATION_SQL, {"period": period}).df()
    finally:
        hr.close()


def _restricted_beside(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The workspace's restricted HR database, beside the warehouse file `con` has open."""
    from pipeline.workspace import Workspace

    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    return Workspace(Path(path).parent).restricted if path else None


def suspect_sql(suites: Sequence[Suite]) -> tuple[str, dict[str, Any]]:
    """A SQL condition true for a row that a fail-severity column rule of `suites` would flag
    (not null, in set, regex, unique), with its bound values. Other rules judge the sample."""
    conditions, values = ["false"], {}
    for suite in suites:
        for expectation in suite.definition.get("expectations") or []:
            kwargs = expectation.get("kwargs") or {}
            column = kwargs.get("column")
            if SEVERITIES[expectation["severity"]] != "fail" or not isinstance(column, str) or '"' in column:
                continue
            quoted, name = f'"{column}"', f"rule_{len(values)}"
            kind = expectation.get("type")
            if kind == "expect_column_values_to_not_be_null":
                conditions.append(f"{quoted} is null")
            elif kind == "expect_column_values_to_be_in_set":
                allowed = kwargs["value_set"]
                values[name] = SUITE_PARAMETERS[allowed["$PARAMETER"]] if isinstance(allowed, dict) else allowed
                conditions.append(f"({quoted} is not null and not list_contains(${name}, {quoted}))")
            elif kind == "expect_column_values_to_match_regex":
                values[name] = kwargs["regex"]
                conditions.append(f"({quoted} is not null and not regexp_matches({quoted}::varchar, ${name}))")
            elif kind == "expect_column_values_to_be_unique":
                conditions.append(f"{quoted} in (select {quoted} from final group by {quoted} having count(*) > 1)")
    return "(" + " or ".join(conditions) + ")", values


def record_results(con: duckdb.DuckDBPyConnection, results: Sequence[CheckResult], *, period: str, run_id: str) -> None:
    """Replace this run and period's rows in meta.check_results, in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)  # checked_at, UTC
    rows = [(run_id, period, r.suite, r.expectation, r.column, r.severity, r.success, r.observed, now) for r in results]
    with transaction(con):
        con.execute(DELETE_RESULTS_SQL, {"run_id": run_id, "period": period})
        if rows:
            con.executemany(INSERT_RESULT_SQL, rows)


def _gx_context(data_docs_dir: Path | None) -> AbstractDataContext:
    """An in-memory context (nothing written but the Data Docs site, when one is asked for)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        data_docs_dir = Path(data_docs_dir)
        data_docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            DATA_DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _run_suite(context: AbstractDataContext, suite: Suite, frame: pd.DataFrame, *, run_name: str) -> list[CheckResult]:
    """Validate one frame against one suite; the result stays in the context for Data Docs."""
    import great_expectations as gx

    source = context.data_sources.add_pandas(suite.name)
    batch = source.add_dataframe_asset(suite.frame).add_batch_definition_whole_dataframe("period")
    gx_suite = context.suites.add(_gx_suite(suite))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    outcome = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=dict(SUITE_PARAMETERS),
        result_format={
            "result_format": "SUMMARY",
            "unexpected_index_column_names": list(suite.index_columns),
        },
        run_id=gx.RunIdentifier(run_name=run_name),
    )
    return _check_results(suite, [str(e.id) for e in gx_suite.expectations], outcome)


def _gx_suite(suite: Suite) -> ExpectationSuite:
    """The file as a GX suite. GX only logs an unknown expectation type and drops it: count them."""
    import great_expectations as gx

    try:
        gx_suite = gx.ExpectationSuite(**suite.definition)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{suite.path}: not a valid Great Expectations suite: {exc}") from None
    expected = len(suite.definition.get("expectations") or [])
    if len(gx_suite.expectations) != expected:
        raise ConfigError(
            f"{suite.path}: Great Expectations accepted {len(gx_suite.expectations)} of its "
            f"{expected} expectations; check each 'type' and its 'kwargs'"
        )
    return gx_suite


def _check_results(suite: Suite, order: list[str], outcome: ExpectationSuiteValidationResult) -> list[CheckResult]:
    """One CheckResult per expectation, in the suite file's order (`order`: expectation ids)."""
    ordered = sorted(outcome.results, key=lambda r: order.index(str(r.expectation_config.id)))
    return [
        CheckResult(
            suite=suite.name,
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            severity=SEVERITIES[str(r.expectation_config.severity.value)],
            success=bool(r.success),
            observed=_observed(r.result, r.exception_info),
        )
        for r in ordered
    ]


def _observed(result: Mapping[str, Any], exception_info: Mapping[str, Any] | None) -> str:
    """What Great Expectations saw, in one line: an error, an observed value, or unexpected rows."""
    error = _exception_message(exception_info)
    if error is not None:
        return f"error: {error}"
    if "observed_value" in result:
        return f"observed {_text(result['observed_value'])}"
    count, total = result.get("unexpected_count", 0), result.get("element_count", 0)
    text = f"{count} of {total} rows unexpected"
    examples = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list")
    if count and examples:
        text += ", e.g. " + "; ".join(_text(e) for e in examples[:MAX_EXAMPLES])
    return text


def _exception_message(exception_info: Mapping[str, Any] | None) -> str | None:
    """The first raised exception's message: GX nests the info per metric when several failed."""
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        infos = [exception_info]
    else:
        infos = [i for i in exception_info.values() if isinstance(i, Mapping)]
    for info in infos:
        if info.get("raised_exception"):
            return str(info.get("exception_message"))
    return None


def _text(value: Any) -> str:
    """Display form: `k=v` pairs, null for missing, exact decimals without trailing zeros."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    text = str(value)
    if DECIMAL_TEXT.match(text):
        return text.rstrip("0").rstrip(".")
    return text


def _failure_message(failed: Sequence[CheckResult], *, period: str, run_id: str) -> str:
    lines = [f"validation failed for billing period {period} (run {run_id}):"]
    lines += [
        f"  {r.suite}: {r.expectation}" + (f" on column {r.column!r}" if r.column else "") + f": {r.observed}"
        for r in failed
    ]
    return "\n".join(lines)
