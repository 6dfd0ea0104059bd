"""The monthly report: a self-contained HTML page (inline CSS, inline SVG charts with a hover
title per bar and point, no script) and a Markdown summary in English and in Simplified Chinese,
CSV and Parquet extracts and PNG charts, all read from the published warehouse. Optimisation
impact comes from `pipeline.impact`, the recommendations from `pipeline.recommend`.

Every amount is a `Decimal` summed by DuckDB; Python only arranges them. Values become floats only
on their way into matplotlib, and are rounded only for display, in `format_money`.
"""

from __future__ import annotations

import functools
import html
import io
import logging
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import duckdb

from pipeline import impact as impact_
from pipeline import recommend as recommend_
from pipeline.columns import BUCKETS, CATEGORIES, MONEY_SCALE, PHASES
from pipeline.display import format_money
from pipeline.errors import CostLedgerError, escape_control
from pipeline.extract_csv import csv_text
from pipeline.i18n import LANGUAGE_NAMES, LANGUAGES, TEXT, label, text

log = logging.getLogger(__name__)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"
ZERO = Decimal(0).scaleb(-MONEY_SCALE)  # 0 at the ledger's scale: "0.000000000000000000"
# Enough digits for any sum or difference of DECIMAL(38, 18) values: Python never rounds them.
EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN)
# Fixed colours (Okabe-Ito, colour-blind safe) so a category looks the same in every report.
CATEGORY_COLOURS: dict[str, str] = {
    "hardware": "#0072B2",
    "software": "#E69F00",
    "data": "#009E73",
    "labor": "#CC79A7",
    "operational": "#56B4E9",
    "time": "#D55E00",
}
OTHER_COLOUR = "#999999"
# One colour per model, the same in every chart of a report: registered models take these in the
# order of the configuration's [[models]] (so a model keeps its colour from month to month), then
# any other model in name order; past the last colour they repeat. matplotlib's tab10 without its
# grey, then tab20's light tones. The buckets are greys, which no model takes.
MODEL_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
)
BUCKET_COLOURS: dict[str, str] = {"__idle__": "#6f6f6f", "__unallocated__": "#3a3a3a", "__shared__": "#b5b5b5"}
# Fonts with Chinese glyphs for the charts of a zh report, first found wins; font files whose
# names match _CJK_FILES are registered when matplotlib's font cache predates them.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Noto Sans CJK JP",
)
_CJK_FILES = re.compile(r"NotoSansCJK|NotoSansSC|SourceHanSans|wqy-|DroidSansFallback", re.I)
BAR_CHART_MODELS = 20  # models drawn as their own bar; the rest are drawn as one "other" bar
TREND_CHART_MODELS = 8  # models drawn as their own line
TOP_REASONS = 15
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Month:
    """A calendar month of charge_date: [start, end)."""

    key: str
    start: date
    end: date

    @classmethod
    def parse(cls, month: str) -> Month:
        """'YYYY-MM', or a CostLedgerError that says what was expected."""
        match = _MONTH.fullmatch(month)
        if match is None:
            raise CostLedgerError(f"month {month!r}: expected YYYY-MM, e.g. 2025-03")
        start = date(int(match[1]), int(match[2]), 1)
        end = (start + timedelta(days=32)).replace(day=1)
        return cls(month, start, end)

    def previous(self) -> Month:
        """The calendar month before this one."""
        start = (self.start - timedelta(days=1)).replace(day=1)
        return Month(start.strftime("%Y-%m"), start, self.start)

    def days(self) -> list[date]:
        """Every day of the month."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def params(self) -> dict[str, Any]:
        """Bound parameters $start, $end and $month."""
        return {"start": self.start, "end": self.end, "month": self.key}


@dataclass(frozen=True)
class Cube:
    """Effective and billed cost of one month by model and category, with every subtotal summed
    by DuckDB (GROUPING SETS). A key part that is None means "all"."""

    effective: Mapping[tuple[str | None, str | None], Decimal]
    billed: Mapping[tuple[str | None, str | None], Decimal]

    def cost(self, model: str | None = None, category: str | None = None) -> Decimal:
        """Effective cost of a model (or all) in a category (or all)."""
        return self.effective.get((model, category), ZERO)

    def billed_cost(self, model: str | None = None, category: str | None = None) -> Decimal:
        """Billed cost of a model (or all) in a category (or all)."""
        return self.billed.get((model, category), ZERO)

    @property
    def empty(self) -> bool:
        """True when the month has no ledger rows."""
        return not self.effective

    def categories(self) -> list[str]:
        """The six categories in their fixed order, then any unexpected one (never dropped)."""
        seen = {c for _, c in self.effective if c is not None}
        return list(CATEGORIES) + sorted(seen - set(CATEGORIES))

    def models(self) -> list[str]:
        """Models by effective cost (largest first), then the three buckets in fixed order."""
        if self.empty:
            return []
        seen = {m for m, _ in self.effective if m is not None and m not in BUCKETS}
        ranked = sorted(seen, key=lambda m: (-self.cost(m), m))
        return ranked + list(BUCKETS)


@dataclass(frozen=True)
class MonthOverMonth:
    """Change of total effective cost against the previous month."""

    previous: Month
    previous_total: Decimal | None  # None: no rows, or not comparable (see note)
    note_key: str = ""  # why there is no comparison: a pipeline.i18n key ...
    note_values: tuple[tuple[str, str], ...] = ()  # ... and its values

    def note(self, t: Any = None) -> str:
        """Why there is no comparison, in t's language (English by default)."""
        return (t or text("en"))(self.note_key, **dict(self.note_values)) if self.note_key else ""

    def change(self, total: Decimal) -> Decimal | None:
        """This month minus the previous one, exact."""
        if self.previous_total is None:
            return None
        with localcontext(EXACT):
            return total - self.previous_total

    def percent(self, total: Decimal) -> Decimal | None:
        """Change in percent of the previous month (for reading only)."""
        change = self.change(total)
        if change is None or self.previous_total is None or self.previous_total.is_zero():
            return None
        with localcontext(EXACT):
            return change * 100 / self.previous_total


@dataclass(frozen=True)
class ReportSettings:
    """Report options (the `[report]` table of the workspace config, where given)."""

    window_days: int = impact_.WINDOW_DAYS
    bootstrap_draws: int = impact_.DRAWS
    bootstrap_seed: int = impact_.SEED
    idle_threshold: Decimal = recommend_.IDLE_THRESHOLD
    commitment_discount: Decimal = recommend_.COMMITMENT_DISCOUNT
    low_utilisation: float = recommend_.LOW_UTILISATION
    workloads: tuple[Any, ...] = ()  # config.workloads: workload -> model, for utilisation
    gpu_pools: tuple[Any, ...] = ()  # config.gpu_pools: node patterns, for commitments


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows for one month."""

    month: Month
    currency: str | None
    cube: Cube
    mom: MonthOverMonth
    daily: list[tuple[date, str, Decimal]]
    events: list[tuple[date, str, str]]
    reasons: list[dict[str, Any]]
    unit_costs: list[dict[str, Any]]
    reconciliation: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    loads: list[dict[str, Any]]
    quarantined: int
    run_ids: list[str]
    impacts: list[Any] = field(default_factory=list)  # pipeline.impact.Impact
    recommendations: list[Any] = field(default_factory=list)  # pipeline.recommend.Recommendation
    restatements: list[dict[str, Any]] = field(default_factory=list)
    restated_money: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    unit_daily: list[dict[str, Any]] = field(default_factory=list)
    settings: ReportSettings = field(default_factory=ReportSettings)
    registry: list[str] = field(default_factory=list)  # registered models in configuration order
    pools: list[dict[str, Any]] = field(default_factory=list)  # GPU pools: GPU-hours and idle share
    opportunity: Decimal = Decimal(0)  # cost of delay (economic_cost of opportunity rows)
    phases: list[dict[str, Any]] = field(default_factory=list)  # model, phase, effective (cash) cost
    incomplete_sources: list[str] = field(default_factory=list)  # non-empty: only HR and milestones

    def colours(self) -> dict[str, str]:
        """The model -> colour map every chart of the report uses (see MODEL_COLOURS)."""
        seen = {m for m, _ in self.cube.effective if m is not None}
        seen |= {m for _, m, _ in self.daily} | {r["model_id"] for r in self.unit_daily}
        seen |= {i.action.model_id for i in self.impacts} | {m for _, m, _ in self.events}
        ordered = [m for m in dict.fromkeys(self.registry) if m not in BUCKETS]
        ordered += sorted(seen - set(ordered) - set(BUCKETS))
        colours = {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(ordered)}
        return colours | BUCKET_COLOURS

    @property
    def economic(self) -> Decimal:
        """Economic cost: the cash (effective) cost plus the opportunity cost of delay, exactly."""
        with localcontext(EXACT):
            return self.cube.cost() + self.opportunity


# --------------------------------------------------------------------------- queries

_MONTH_ROWS = """
    month_rows as (
        select *
        from ledger.cost_ledger
        where charge_date >= $start and charge_date < $end
    )"""

_CUBE_SQL = f"""
with {_MONTH_ROWS},

final as (
    select
        model_id,
        category,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from month_rows
    group by grouping sets ((model_id, category), (model_id), (category), ())
    having count(*) > 0
)

select * from final
"""

_OPPORTUNITY_SQL = f"""
with {_MONTH_ROWS}

select coalesce(sum(economic_cost), 0) from month_rows where cost_basis = 'opportunity'
"""

_PHASES_SQL = f"""
with {_MONTH_ROWS}

select model_id, phase, sum(effective_cost) as effective_cost
from month_rows
where cost_basis = 'cash'
group by model_id, phase
order by model_id, phase
"""

# Sources of the month's rows: a month whose only inputs are HR and milestones (no bill, telemetry,
# owned server or charge dates it) is flagged incomplete.
_SOURCES_SQL = f"""
with {_MONTH_ROWS}

select distinct source from month_rows order by source
"""
HR_AND_PLANS = ("labor", "milestones")

_CURRENCIES_SQL = f"""
with {_MONTH_ROWS}

select distinct currency from month_rows order by currency
"""

_DAILY_SQL = f"""
with {_MONTH_ROWS}

select charge_date, model_id, sum(effective_cost) as effective_cost
from month_rows
group by charge_date, model_id
order by charge_date, model_id
"""

_REASONS_SQL = f"""
with {_MONTH_ROWS},

final as (
    select
        model_id as bucket,
        coalesce(unallocated_reason, '') as reason,
        category,
        subcategory,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from month_rows
    where list_contains($buckets, model_id)
    group by bucket, reason, category, subcategory
)

select * from final
order by abs(effective_cost) desc, bucket, reason, category, subcategory
limit $limit
"""

_UNIT_COSTS_SQL = f"""
with {_MONTH_ROWS},

cost as (
    select model_id, sum(effective_cost) as effective_cost
    from month_rows
    where not list_contains($buckets, model_id) and phase = 'inference'  -- the cost of serving
    group by model_id
),

volume as (
    select
        model_id,
        sum(requests) as requests,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens
    from staging.usage
    where usage_date >= $start and usage_date < $end
    group by model_id
),

final as (
    select
        coalesce(cost.model_id, volume.model_id) as model_id,
        coalesce(cost.effective_cost, 0) as effective_cost,
        volume.requests,
        volume.tokens
    from cost
    full outer join volume on volume.model_id = cost.model_id
)

select * from final order by model_id
"""

_CHECKS_SQL = """
with published as (
    select distinct run_id from ledger.cost_ledger where billing_period = $month
),

latest as (
    select run_id from meta.check_results
    where billing_period = $month
    order by checked_at desc, run_id
    limit 1
),

checked_run as (
    select run_id from published
    union all
    select run_id from latest where not exists (select 1 from published)
)

select suite, expectation, "column", severity, success, observed, run_id
from meta.check_results
where billing_period = $month and run_id in (select run_id from checked_run)
order by success, severity, suite, expectation, "column"
"""

# The month's input files: those whose rows date it, and those dating no period (header only,
# rejected) delivered since it began and not replaced by a later delivery at their path.
_MONTH_FILES = """
list_contains(periods, $month)
    or len(periods) = 0 and loaded_at >= $start and not exists (
        select 1 from meta.loads as later
        where later.source = l.source and later.path = l.path and later.loaded_at > l.loaded_at
    )
"""

_LOADS_SQL = f"""
select source, path, left(checksum, 12) as checksum, rows_in, rows_loaded, rows_quarantined,
    status,
    case when status = 'rejected' or rows_in = 0 then message end as note
from meta.loads as l
where {_MONTH_FILES}
order by source, path, loaded_at
"""

_EVENTS_SQL = """
select action_date, model_id, action
from staging.optimizations
where action_date >= $start and action_date < $end
order by action_date, model_id, action
"""

_RECONCILIATION_SQL = """
select * from marts.billing_reconciliation
where billing_period = $month
order by provider, currency
"""

_RUN_IDS_SQL = f"""
with {_MONTH_ROWS}

select distinct run_id from month_rows order by run_id
"""

_QUARANTINED_SQL = f"""
with month_loads as (
    select load_id from meta.loads as l where {_MONTH_FILES}
)

select count(*) from meta.quarantine
where load_id in (select load_id from month_loads)
"""


_RESTATEMENTS_SQL = """
with old as (
    select * from meta.loads
    where status = 'superseded' and list_contains(periods, $month)
),

final as (
    select
        old.source,
        old.path,
        left(old.checksum, 12) as old_checksum,
        left(new.checksum, 12) as new_checksum,
        old.rows_loaded as old_rows,
        new.rows_loaded as new_rows,
        new.loaded_at as restated_at
    from old
    left join meta.loads as new on new.load_id = old.superseded_by
)

select * from final order by restated_at, source, path
"""

_RESTATED_MONEY_SQL = """
with restated as (
    select * from meta.restatements where billing_period = $month
),

final as (
    select provider, billing_account_id, currency, old_rows, new_rows, old_billed, new_billed, billed_change,
        old_effective, new_effective, effective_change, restated_at
    from restated
)

select * from final order by restated_at, provider, billing_account_id, currency
"""

_MILESTONES_SQL = """
with milestones as (
    select * from marts.milestones
    where planned_date < $end and coalesce(actual_date, $end) >= $start
),

final as (
    select model_id, milestone, started_date, planned_date, actual_date, cancelled_date, status, days_late,
        time_to_deploy_days, days_charged, delay_cost
    from milestones
)

select * from final order by model_id, planned_date, milestone
"""

_UNIT_DAILY_SQL = f"""
with {_MONTH_ROWS},

cost as (
    select
        charge_date as day,
        model_id,
        sum(effective_cost) as effective_cost,
        coalesce(sum(effective_cost) filter (where quantity_unit = 'GPU-hours'), 0) as gpu_cost,
        coalesce(sum(quantity) filter (where quantity_unit = 'GPU-hours'), 0) as gpu_hours
    from month_rows
    where not list_contains($buckets, model_id) and phase = 'inference'  -- the cost of serving
    group by day, model_id
),

volume as (
    select
        usage_date as day,
        model_id,
        sum(requests) as requests,
        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens
    from staging.usage
    where usage_date >= $start and usage_date < $end
    group by day, model_id
),

final as (
    select cost.*, volume.requests, volume.tokens
    from cost
    left join volume on volume.day = cost.day and volume.model_id = cost.model_id
)

select * from final order by day, model_id
"""


_REGISTRY_SQL = """
select model_id from meta.models order by model_order
"""

# Per GPU pool (a [[gpu_pools]] name, or owned) over the month: GPU-hours paid, those no workload
# held (__idle__), and their cost; the idle share of the pool's GPU time is worked out in Python.
_POOL_IDLE_SQL = """
with pool_days as (
    select pool, model_id, gpu_hours, cost
    from marts.gpu_efficiency
    where charge_date >= $start and charge_date < $end
),

final as (
    select
        pool,
        sum(gpu_hours) as gpu_hours,
        coalesce(sum(gpu_hours) filter (where model_id = '__idle__'), 0) as idle_hours,
        sum(cost) as cost,
        coalesce(sum(cost) filter (where model_id = '__idle__'), 0) as idle_cost
    from pool_days
    group by pool
)

select * from final order by pool
"""


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Any:
    """Run a query, binding only the named parameters it uses (DuckDB rejects unused ones)."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _rows(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query with bound named parameters, as tuples."""
    return _execute(con, sql, params).fetchall()


def _query(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a query with bound named parameters, as dicts keyed by column name."""
    cursor = _execute(con, sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _currencies(con: duckdb.DuckDBPyConnection, month: Month) -> list[str]:
    """Distinct reporting currencies of the month's ledger rows."""
    return [r[0] for r in _rows(con, _CURRENCIES_SQL, **month.params())]


def _cube(con: duckdb.DuckDBPyConnection, month: Month) -> Cube:
    """The month's cost by model and category with all subtotals."""
    rows = _query(con, _CUBE_SQL, **month.params())
    keys = [(r["model_id"], r["category"]) for r in rows]
    return Cube(
        effective=dict(zip(keys, (r["effective_cost"] for r in rows), strict=True)),
        billed=dict(zip(keys, (r["billed_cost"] for r in rows), strict=True)),
    )


def _month_over_month(con: duckdb.DuckDBPyConnection, month: Month, currency: str | None) -> MonthOverMonth:
    """The previous month's total, when it has rows in the same currency."""
    previous = month.previous()
    currencies = _currencies(con, previous)
    if not currencies:
        return MonthOverMonth(previous, None, "mom_no_rows", (("month", previous.key),))
    if currencies != [currency]:
        values = (("month", previous.key), ("currencies", ", ".join(currencies)))
        return MonthOverMonth(previous, None, "mom_other_currency", values)
    return MonthOverMonth(previous, _cube(con, previous).cost())


def _reporting_currency(con: duckdb.DuckDBPyConnection, month: Month) -> str | None:
    """The one reporting currency of the month (None when it has no rows)."""
    currencies = _currencies(con, month)
    if len(currencies) > 1:
        raise CostLedgerError(
            f"ledger.cost_ledger has rows in several currencies for {month.key} "
            f"({', '.join(currencies)}); a report needs one reporting currency"
        )
    return currencies[0] if currencies else None


def collect(con: duckdb.DuckDBPyConnection, month: str, settings: ReportSettings | None = None) -> ReportData:
    """Read everything the report of `month` ('YYYY-MM') shows."""
    m = Month.parse(month)
    s = settings or ReportSettings()
    p = m.params() | {"buckets": list(BUCKETS), "limit": TOP_REASONS}
    currency = _reporting_currency(con, m)
    impacts = impact_.month_impacts(
        con,
        m.start,
        m.end,
        before_days=s.window_days,
        after_days=s.window_days,
        draws=s.bootstrap_draws,
        seed=s.bootstrap_seed,
    )
    recommendations = recommend_.recommend(
        con,
        month=m.key,
        start=m.start,
        end=m.end,
        workloads=list(s.workloads),
        gpu_pools=list(s.gpu_pools),
        idle_threshold=s.idle_threshold,
        commitment_discount=s.commitment_discount,
        low=s.low_utilisation,
    )
    return ReportData(
        month=m,
        currency=currency,
        cube=_cube(con, m),
        mom=_month_over_month(con, m, currency),
        daily=_rows(con, _DAILY_SQL, **p),
        events=_rows(con, _EVENTS_SQL, **p),
        reasons=_query(con, _REASONS_SQL, **p),
        unit_costs=_unit_costs(_query(con, _UNIT_COSTS_SQL, **p)),
        reconciliation=_query(con, _RECONCILIATION_SQL, **p),
        checks=_query(con, _CHECKS_SQL, **p),
        loads=_query(con, _LOADS_SQL, **p),
        quarantined=_rows(con, _QUARANTINED_SQL, **p)[0][0],
        run_ids=[r[0] for r in _rows(con, _RUN_IDS_SQL, **p)],
        impacts=impacts,
        recommendations=recommendations,
        restatements=_query(con, _RESTATEMENTS_SQL, **p),
        restated_money=_query(con, _RESTATED_MONEY_SQL, **p),
        milestones=_query(con, _MILESTONES_SQL, **p),
        unit_daily=_query(con, _UNIT_DAILY_SQL, **p),
        settings=s,
        registry=[r[0] for r in _rows(con, _REGISTRY_SQL)],
        pools=_pools(_query(con, _POOL_IDLE_SQL, **p)),
        opportunity=_rows(con, _OPPORTUNITY_SQL, **p)[0][0],
        phases=_query(con, _PHASES_SQL, **p),
        incomplete_sources=_incomplete(con, p),
    )


def _pools(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pool's idle share: idle GPU-hours in percent of all its GPU-hours (None without any)."""
    return [row | {"idle_share": _share(Decimal(row["idle_hours"]), Decimal(row["gpu_hours"] or 0))} for row in rows]


def _incomplete(con: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> list[str]:
    """The month's sources when they are HR and milestones only (an incomplete month), else []."""
    sources = [r[0] for r in _rows(con, _SOURCES_SQL, **p)]
    return sources if sources and set(sources) <= set(HR_AND_PLANS) else []


def phase_table(data: ReportData) -> tuple[list[str], list[dict[str, Any]]]:
    """(phases present, one row per model, in the model x category table's order: its cost in
    each phase and its total)."""
    phases = [ph for ph in PHASES if any(r["phase"] == ph for r in data.phases)]
    order = {m: i for i, m in enumerate(data.cube.models())}
    rows: dict[str, dict[str, Decimal]] = {}
    for r in data.phases:
        rows.setdefault(r["model_id"], {})[r["phase"]] = r["effective_cost"]
    with localcontext(EXACT):
        return phases, [
            {"model_id": m, "cells": [cells.get(ph, ZERO) for ph in phases], "total": sum(cells.values(), ZERO)}
            for m, cells in sorted(rows.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
        ]


def _incomplete_text(data: ReportData, t: Any) -> str:
    """The incomplete-month note, naming the month's sources in t's language ('' when complete)."""
    if not data.incomplete_sources:
        return ""
    return t("incomplete", sources=", ".join(label(t, "src_", s) for s in data.incomplete_sources))


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    """part in percent of whole (for reading), None when whole is 0."""
    if whole.is_zero():
        return None
    with localcontext(EXACT):
        return part * 100 / whole


def _ratio(cost: Decimal, volume: int | None, per: int) -> Decimal | None:
    """cost x per / volume, or None without volume (a ratio for reading, not for adding up)."""
    if not volume:
        return None
    with localcontext(EXACT):
        return cost * per / Decimal(volume)


def _unit_costs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add cost per 1,000 requests and per 1M tokens to each model's month totals."""
    return [
        row
        | {
            "per_1k_requests": _ratio(row["effective_cost"], row["requests"], 1000),
            "per_1m_tokens": _ratio(row["effective_cost"], row["tokens"], 1_000_000),
        }
        for row in rows
    ]


# --------------------------------------------------------------------------- charts


@functools.cache
def cjk_font() -> str | None:
    """The first of CJK_FONTS matplotlib can use, or None. A font installed after matplotlib built
    its font cache (the test set-up installs fonts-noto-cjk) is registered here, in memory."""
    from matplotlib import font_manager

    def found() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in names), None)

    if found() is None:
        for path in sorted(font_manager.findSystemFonts()):
            if _CJK_FILES.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    return found()


@contextmanager
def _chart_style(lang: str = "en") -> Iterator[None]:
    """Agg backend, text as SVG <text> (no embedded or external fonts), no mathtext parsing of
    model names, print-friendly sizes. Chinese text falls back glyph by glyph to a CJK font; with
    none installed the PNGs show empty boxes for it (the page's inline SVG text is drawn by the
    browser with its own fonts), so matplotlib's missing-glyph warnings are silenced."""
    import matplotlib

    matplotlib.use("Agg")
    font = cjk_font() if lang == "zh" else None
    with (
        warnings.catch_warnings(),
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "text.parse_math": False,
                "font.family": "sans-serif",
                "font.size": 9,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
            | ({"font.family": ["sans-serif", font]} if font else {})  # fallback works between families
        ),
    ):
        if lang == "zh" and font is None:
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from (current )?font")
        yield


class _Tips:
    """Hover text for the elements of one chart: each bar, point or swatch gets an id; the SVG then
    gets a <title> in its group (every browser shows it on hover: no script, nothing to fetch) and,
    for an element drawn in a model's colour, the model in a data-model attribute."""

    def __init__(self, chart: str) -> None:
        self.chart = chart
        self.items: dict[str, tuple[str, str | None]] = {}

    def add(self, artist: Any, title: str, model: str | None = None) -> Any:
        """Give `artist` the hover text `title`; `model`: the model whose colour it is drawn in."""
        gid = f"{self.chart}-tip-{len(self.items)}"
        artist.set_gid(gid)
        self.items[gid] = (title, model)
        return artist

    def apply(self, svg: str) -> str:
        """The SVG with a <title> (escaped, control characters written as escapes) per element."""

        def titled(match: re.Match[str]) -> str:
            title, model = self.items[match[1]]
            attrs = f' class="series" data-model="{html.escape(escape_control(model))}"' if model is not None else ""
            return f'<g id="{match[1]}"{attrs}>\n<title>{html.escape(escape_control(title))}</title>'

        return re.sub(rf'<g id="({re.escape(self.chart)}-tip-\d+)">', titled, svg)


def _svg(fig: Any, salt: str, tips: _Tips | None = None) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE, metadata or namespace URLs
    (HTML5 does not need them), deterministic ids, a hover title per bar and point."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata=_SVG_METADATA, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    head, rest = svg.split(">", 1)
    svg = _XMLNS.sub("", head) + ">" + rest
    return tips.apply(svg) if tips is not None else svg


def _short(label: str, limit: int = 28) -> str:
    """A model id shortened for an axis label (the tables show it in full)."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _bar_models(cube: Cube) -> tuple[list[str], list[str]]:
    """The models drawn as their own bar, and the rest (drawn as one bar)."""
    models = cube.models()
    shown, rest = models[: BAR_CHART_MODELS - 1], models[BAR_CHART_MODELS - 1 :]
    return (models, []) if len(rest) == 1 else (shown, rest)


def _bar_series(cube: Cube, t: Any = None) -> tuple[list[str], dict[str, list[float]]]:
    """Bar labels and per-category float values; models past the limit become one bar."""
    t = t or text("en")
    shown, rest = _bar_models(cube)
    labels = [_short(m) for m in shown] + ([t("other_models", n=len(rest))] if rest else [])
    series = {}
    for category in cube.categories():
        values = [float(cube.cost(m, category)) for m in shown]
        if rest:
            values.append(sum(float(cube.cost(m, category)) for m in rest))
        series[category] = values
    return labels, series


def _money_tip(value: Decimal, currency: str | None) -> str:
    return f"{format_money(value)} {currency or ''}".rstrip()


def _category_chart(
    cube: Cube,
    currency: str,
    t: Any,
    lang: str = "en",
    *,
    colours: Mapping[str, str] | None = None,
    tips: _Tips | None = None,
) -> Any:
    """Stacked bars: effective cost per model, stacked by category (negatives stack downwards);
    under each bar a square in the model's colour."""
    from matplotlib.figure import Figure

    colours = colours or {}
    tips = tips or _Tips("category")
    labels, series = _bar_series(cube, t)
    shown, rest = _bar_models(cube)
    with _chart_style(lang):
        fig = Figure(figsize=(9, 4.2))
        ax = fig.subplots()
        up, down = [0.0] * len(labels), [0.0] * len(labels)
        for category, values in series.items():
            bottom = [u if v >= 0 else d for v, u, d in zip(values, up, down, strict=True)]
            colour = CATEGORY_COLOURS.get(category, OTHER_COLOUR)
            bars = ax.bar(range(len(labels)), values, bottom=bottom, color=colour, label=label(t, "cat_", category))
            for i, bar in enumerate(bars):
                exact = (
                    cube.cost(shown[i], category)
                    if i < len(shown)
                    else sum((cube.cost(m, category) for m in rest), ZERO)
                )
                tips.add(
                    bar,
                    f"{shown[i] if i < len(shown) else labels[i]} \u00b7 {label(t, 'cat_', category)}: "
                    f"{_money_tip(exact, currency)}",
                )
            up = [u + max(v, 0.0) for v, u in zip(values, up, strict=True)]
            down = [d + min(v, 0.0) for v, d in zip(values, down, strict=True)]
        for i, model in enumerate(shown):  # the model's colour, as in the line charts
            square = ax.plot(
                [i],
                [-0.035],
                marker="s",
                markersize=6,
                linestyle="none",
                color=colours.get(model, OTHER_COLOUR),
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )[0]
            tips.add(square, f"{model}: {_money_tip(cube.cost(model), currency)}", model)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.tick_params(axis="x", length=0, pad=10)
        ax.set_ylabel(t("chart_effective_cost", cur=currency))
        ax.axhline(0, color="#333333", linewidth=0.6)
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return fig


def _trend_series(data: ReportData, t: Any = None) -> dict[str, list[float]]:
    """Per-model float values for every day of the month; small models summed into one line."""
    return {k: [float(v) for v in values] for k, values in _trend_exact(data, t).items()}


def _trend_exact(data: ReportData, t: Any = None) -> dict[str, list[Decimal]]:
    """Per-model effective cost of every day of the month (exact); small models summed into one
    line, keyed by the "(n other models)" label."""
    t = t or text("en")
    days = {d: i for i, d in enumerate(data.month.days())}
    totals: dict[str, float] = {}
    for _, model, cost in data.daily:
        totals[model] = totals.get(model, 0.0) + abs(float(cost))
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    limit = TREND_CHART_MODELS if len(ranked) > TREND_CHART_MODELS + 1 else len(ranked)
    shown = set(ranked[:limit])
    other = t("other_models", n=len(ranked) - len(shown))
    series = {m: [ZERO] * len(days) for m in ranked if m in shown}
    with localcontext(EXACT):
        for day, model, cost in data.daily:
            key = model if model in shown else other
            values = series.setdefault(key, [ZERO] * len(days))
            values[days[day]] += cost
    return series


def _mark_events(ax: Any, events: list[tuple[date, str, str]], t: Any) -> None:
    """A dashed vertical line per optimisation day, labelled 'model: action'."""
    by_day: dict[date, list[str]] = {}
    for day, model, action in events:
        by_day.setdefault(day, []).append(f"{_short(model, 20)}: {label(t, 'act_', action)}")
    for day, labels in by_day.items():
        ax.axvline(day.day, color="#444444", linestyle="--", linewidth=0.8)
        ax.text(
            day.day,
            1.0,
            " " + "; ".join(labels),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="#222222",
        )


def _line(
    ax: Any, tips: _Tips, points: list[tuple[date, float, str]], colour: str, name: str, model: str | None
) -> Any:
    """One series: its line (dashed for a bucket: money no model carries), and a point per day
    with its own hover text ('name, day: value')."""
    style = "--" if model in BUCKETS else "-"
    handle = ax.plot([p[0].day for p in points], [p[1] for p in points], linewidth=1.2, color=colour, linestyle=style)[
        0
    ]
    tips.add(handle, name, model)
    for day, value, shown in points:
        point = ax.plot([day.day], [value], marker="o", markersize=3, linestyle="none", color=colour)[0]
        tips.add(point, f"{name}, {day.isoformat()}: {shown}", model)
    return handle


def _trend_chart(
    data: ReportData, t: Any, lang: str = "en", *, colours: Mapping[str, str] | None = None, tips: _Tips | None = None
) -> Any:
    """Lines of daily effective cost per model in the model's colour, optimisation events as
    vertical lines; hovering a point shows its model, day and amount."""
    from matplotlib.figure import Figure

    colours = colours or {}
    tips = tips or _Tips("trend")
    series = _trend_exact(data, t)
    days = data.month.days()
    with _chart_style(lang):
        fig = Figure(figsize=(9, 4.0))
        ax = fig.subplots()
        handles = []
        for key, values in series.items():
            model = key if key in colours else None
            points = [(day, float(v), _money_tip(v, data.currency)) for day, v in zip(days, values, strict=True)]
            handles.append(_line(ax, tips, points, colours.get(key, OTHER_COLOUR), key, model))
        _mark_events(ax, data.events, t)
        ax.set_xlim(0.5, days[-1].day + 0.5)
        ax.set_xlabel(t("chart_day_of", month=data.month.key))
        ax.set_ylabel(t("chart_cost_per_day", cur=data.currency))
        # Labels passed explicitly: matplotlib would hide automatic labels starting with "_".
        ax.legend(
            handles, [_short(m) for m in series], fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0)
        )
        return fig


def _unit_chart(
    data: ReportData, t: Any, lang: str = "en", *, colours: Mapping[str, str] | None = None, tips: _Tips | None = None
) -> Any:
    """Three panels over the days of the month, one line per model in its colour: effective cost
    per 1,000 requests, per million tokens, and GPU cost per GPU-hour (floats, for plotting only)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    colours = colours or {}
    tips = tips or _Tips("unit")
    panels = (
        (t("per_1k"), "effective_cost", "requests", 1000.0),
        (t("per_1m"), "effective_cost", "tokens", 1_000_000.0),
        (t("per_gpu_hour"), "gpu_cost", "gpu_hours", 1.0),
    )
    models = sorted({r["model_id"] for r in data.unit_daily})
    with _chart_style(lang):
        fig = Figure(figsize=(9, 7.2))
        axes = fig.subplots(3, 1, sharex=True)
        for ax, (title, numerator, denominator, per) in zip(axes, panels, strict=True):
            handles, labels = [], []
            for model in models:
                points = [
                    (r["day"], float(r[numerator]) * per / float(r[denominator]))
                    for r in data.unit_daily
                    if r["model_id"] == model and r[denominator]
                ]
                if points:
                    shown = [(day, v, f"{v:,.4f} {data.currency or ''}".rstrip()) for day, v in points]
                    handles.append(
                        _line(ax, tips, shown, colours.get(model, OTHER_COLOUR), f"{model} \u00b7 {title}", model)
                    )
                    labels.append(_short(model))
            _mark_events(ax, data.events, t)
            ax.set_title(f"{title} ({data.currency})", fontsize=9, loc="left")
            ax.set_yscale("log")
            # plain tick labels: mathtext is off (model names may hold "$"), so no 10^x labels
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            if handles:
                ax.legend(handles, labels, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axes[-1].set_xlim(0.5, len(data.month.days()) + 0.5)
        axes[-1].set_xlabel(t("chart_day_of", month=data.month.key))
        return fig


def _impact_chart(
    data: ReportData, t: Any, lang: str = "en", *, colours: Mapping[str, str] | None = None, tips: _Tips | None = None
) -> Any:
    """One row per action: the change in cost per 1,000 requests with its 95% interval, and the
    difference in differences (floats: statistical estimates); a square in the model's colour
    at the start of each row."""
    from matplotlib.figure import Figure

    colours = colours or {}
    tips = tips or _Tips("impact")
    rows = [i for i in data.impacts if i.change.relative is not None]
    scope = {impact_.SCOPE_GPU: t("scope_gpu"), impact_.SCOPE_ALL: t("scope_all")}
    with _chart_style(lang):
        fig = Figure(figsize=(9, 1.0 + 0.55 * max(len(rows), 1)))
        ax = fig.subplots()
        for y, i in enumerate(rows):
            name = f"{i.action.day.isoformat()} {i.action.model_id}: {label(t, 'act_', i.action.action)}"
            point = float(i.change.relative) * 100
            colour = {"measured": "#0072B2", "inconclusive": "#999999", "confounded": "#D55E00"}[i.verdict]
            if i.change.low is not None:
                bar = ax.plot(
                    [i.change.low * 100, i.change.high * 100], [y, y], color=colour, linewidth=4, solid_capstyle="butt"
                )[0]
                tips.add(bar, f"{name}: {t('interval')} {_interval_text(i.change.low, i.change.high, na=t('na'))}")
            dot = ax.plot([point], [y], "o", color="#1a1a1a", markersize=5)[0]
            tips.add(dot, f"{name}: {t('change')} {_percent(i.change.relative, na=t('na'))} ({t(i.verdict)})")
            if i.did is not None:
                diamond = ax.plot([i.did * 100], [y - 0.25], "D", color=colour, markersize=5, markerfacecolor="white")[
                    0
                ]
                tips.add(diamond, f"{name}: {t('did')} {_percent(i.did, na=t('na'))}")
            square = ax.plot(
                [-0.012],
                [y],
                marker="s",
                markersize=6,
                linestyle="none",
                color=colours.get(i.action.model_id, OTHER_COLOUR),
                transform=ax.get_yaxis_transform(),
                clip_on=False,
            )[0]
            tips.add(square, i.action.model_id, i.action.model_id)
        ax.axvline(0, color="#333333", linewidth=0.8)
        labels = [
            f"{i.action.day.isoformat()} {_short(i.action.model_id, 20)}: {label(t, 'act_', i.action.action)} "
            f"({scope.get(i.scope, i.scope)})"
            for i in rows
        ]
        ax.set_yticks(range(len(rows)), labels)
        ax.tick_params(axis="y", length=0, pad=12)
        ax.set_ylim(len(rows) - 0.5, -0.8)
        ax.set_xlabel(t("chart_impact_x"))
        return fig


def _render_charts(data: ReportData, lang: str = "en") -> tuple[dict[str, str], dict[str, bytes]]:
    """Every chart as inline SVG (for the page, with hover titles) and PNG (files beside it),
    labelled in `lang`, each model in its one colour."""
    if data.cube.empty:
        return {}, {}
    t = text(lang)
    colours = data.colours()
    figures = {
        "category": lambda tips: _category_chart(data.cube, data.currency or "", t, lang, colours=colours, tips=tips),
        "trend": lambda tips: _trend_chart(data, t, lang, colours=colours, tips=tips),
    }
    if data.unit_daily:
        figures["unit_costs"] = lambda tips: _unit_chart(data, t, lang, colours=colours, tips=tips)
    if any(i.change.relative is not None for i in data.impacts):
        figures["impact"] = lambda tips: _impact_chart(data, t, lang, colours=colours, tips=tips)
    if lang == "zh" and cjk_font() is None:
        log.warning("no CJK font found (%s): the Chinese text of the PNG charts shows as boxes", ", ".join(CJK_FONTS))
    svgs, pngs = {}, {}
    with _chart_style(lang):
        for name, build in figures.items():
            tips = _Tips(name.replace("_", "-"))
            fig = build(tips)
            svgs[name] = _svg(fig, f"{name}-chart", tips)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110, metadata={"Software": None}, bbox_inches="tight")
            pngs[name] = buf.getvalue()
    return svgs, pngs


# --------------------------------------------------------------------------- outputs


def _matrix_rows(cube: Cube) -> list[dict[str, Any]]:
    """The model x category table: one dict per model with each category and the total."""
    return [
        {
            "model_id": m,
            "cells": [cube.cost(m, c) for c in cube.categories()],
            "total": cube.cost(m),
        }
        for m in cube.models()
    ]


def _csv_text(data: ReportData) -> str:
    """model_category.csv: the model x category table with exact decimals as text."""
    cube = data.cube
    rows = [[row["model_id"], *row["cells"], row["total"], data.currency] for row in _matrix_rows(cube)]
    return csv_text(["model_id", *cube.categories(), "total", "currency"], rows)


def _md_code(text: str) -> str:
    """Text as a Markdown code span, safe in a table cell: no HTML, emphasis or cell breaks."""
    text = text.replace("\n", " ").replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table, numbers right-aligned (every column after the first)."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _signed(d: Decimal, places: int = 2) -> str:
    """format_money with an explicit "+" for increases."""
    text = format_money(d, places)
    return "+" + text if d > 0 and text.strip("0.,") else text


def _headline_lines(data: ReportData, t: Any) -> list[str]:
    """Markdown headline: totals, per category, month over month."""
    cube, cur = data.cube, data.currency
    lines = [f"> {_incomplete_text(data, t)}", ""] if data.incomplete_sources else []
    lines += [
        f"- {t('effective_cost')}: **{format_money(cube.cost())} {cur}**",
        f"- {t('billed_cost')}: **{format_money(cube.billed_cost())} {cur}**",
        f"- {t('economic_cost')}: {format_money(data.economic)} {cur} "
        f"({t('economic_sub', opportunity=format_money(data.opportunity), cur=cur)})",
    ]
    change, percent = data.mom.change(cube.cost()), data.mom.percent(cube.cost())
    if change is None:
        lines.append(f"- {t('mom')}: {t('na')} ({data.mom.note(t)})")
    else:
        pct = f" ({_signed(percent, 1)} %)" if percent is not None else ""
        previous = data.mom.previous.key
        lines.append(f"- {t('mom')} {t('vs')} {previous}: {_signed(change)} {cur}{pct}")
    rows = [
        [label(t, "cat_", c), format_money(cube.cost(None, c)), format_money(cube.billed_cost(None, c))]
        for c in cube.categories()
    ]
    return lines + ["", *_md_table([t("category"), t("effective"), t("billed")], rows)]


def _summary_md(data: ReportData, t: Any = None) -> str:
    """summary.md: headline numbers, the model x category table, idle and unallocated totals,
    optimisation impact and recommendations."""
    t = t or text("en")
    cube = data.cube
    lines = [f"# {t('title')} {data.month.key}", ""]
    if cube.empty:
        empty = t("empty", table="ledger.cost_ledger", month=data.month.key)
        return "\n".join([*lines, empty, ""])
    lines += [t("summary_currency", cur=data.currency), ""]
    lines += _headline_lines(data, t)
    lines += ["", f"## {t('by_model')}", ""]
    rows = [
        [_md_code(r["model_id"]), *(format_money(v) for v in (*r["cells"], r["total"]))] for r in _matrix_rows(cube)
    ]
    totals = [
        f"**{t('total')}**",
        *(format_money(cube.cost(None, c)) for c in cube.categories()),
        format_money(cube.cost()),
    ]
    lines += _md_table([t("model"), *(label(t, "cat_", c) for c in cube.categories()), t("total")], [*rows, totals])
    phases, phase_rows = phase_table(data)
    if phase_rows:
        lines += ["", f"## {t('by_phase')}", ""]
        lines += _md_table(
            [t("model"), *(label(t, "phase_", ph) for ph in phases), t("total")],
            [[_md_code(r["model_id"]), *(format_money(v) for v in (*r["cells"], r["total"]))] for r in phase_rows],
        )
    lines += ["", f"## {t('idle')}", ""]
    lines += _md_table(
        [t("bucket"), t("meaning"), t("effective"), t("billed")],
        [
            [_md_code(b), t(f"bucket_{b}"), format_money(cube.cost(b)), format_money(cube.billed_cost(b))]
            for b in BUCKETS
        ],
    )
    if data.pools:
        idle_share = _percent_text(_share(cube.cost("__idle__"), cube.cost()), t)
        lines += ["", t("pool_idle_intro", bucket="`__idle__`", share=idle_share, table="`marts.gpu_efficiency`"), ""]
        rows = [
            [
                f"{label(t, 'pool_', p['pool'])} {_md_code(p['pool'])}"
                if label(t, "pool_", p["pool"]) != p["pool"]
                else _md_code(p["pool"]),
                format_money(p["gpu_hours"], 1),
                format_money(p["idle_hours"], 1),
                _percent_text(p["idle_share"], t),
                format_money(p["cost"]),
                format_money(p["idle_cost"]),
                _percent_text(_share(p["idle_cost"], cube.cost()), t),
            ]
            for p in data.pools
        ]
        lines += _md_table(
            [
                t("col_pool"),
                t("col_gpu_hours"),
                t("col_idle_hours"),
                t("col_pool_idle_share"),
                t("col_pool_cost"),
                t("col_idle_cost"),
                t("col_idle_of_total"),
            ],
            rows,
        )
    lines += ["", f"## {t('impact')}", ""]
    if data.impacts:
        na = t("na")
        rows = [
            [
                f"{i.action.day.isoformat()} {_md_code(i.action.model_id)} {_md_action(i.action.action, t)}",
                t("scope_gpu") if i.scope == impact_.SCOPE_GPU else t("scope_all"),
                format_money(i.change.before, 4) if i.change.before is not None else na,
                format_money(i.change.after, 4) if i.change.after is not None else na,
                _percent(i.change.relative, na=na),
                _interval_text(i.change.low, i.change.high, na=na),
                _percent(i.did, na=na),
                format_money(i.realised_saving) if i.realised_saving is not None else na,
                t(i.verdict),
            ]
            for i in data.impacts
        ]
        lines += _md_table(
            [
                t("action"),
                t("scope"),
                t("before"),
                t("after"),
                t("change"),
                t("interval"),
                t("did"),
                t("saving"),
                t("verdict"),
            ],
            rows,
        )
    else:
        lines.append(t("no_impact", month=data.month.key))
    lines += ["", f"## {t('recommendations')}", ""]
    if data.recommendations:
        rows = [
            [t(f"kind_{r.kind}"), _md_code(r.subject), format_money(r.amount), format_money(r.saving)]
            for r in data.recommendations
        ]
        lines += _md_table([t("kind"), t("subject"), t("amount"), t("est_saving")], rows)
    else:
        lines.append(t("no_recs", month=data.month.key))
    return "\n".join([*lines, ""])


def _percent_text(share: Decimal | None, t: Any) -> str:
    """A share already in percent, for reading ('45.2 %'), or n/a in t's language."""
    return t("na") if share is None else f"{format_money(share, 1)} %"


def _percent(value: Decimal | float | None, places: int = 1, na: str = "n/a") -> str:
    """A relative change as a signed percent for reading ('-30.0 %'), `na` when unknown."""
    if value is None:
        return na
    return _signed(Decimal(repr(value)) * 100 if isinstance(value, float) else value * 100, places) + " %"


def _interval_text(low: float | None, high: float | None, places: int = 1, na: str = "n/a") -> str:
    """'[-31.1 %, -27.8 %]' or `na`."""
    if low is None or high is None:
        return na
    return f"[{_percent(low, places)}, {_percent(high, places)}]"


def _md_action(action: str, t: Any) -> str:
    """An optimisation action for Markdown: a known one in t's language, anything else (data from
    the optimisation log) as a code span."""
    return t(f"act_{action}") if f"act_{action}" in TEXT else _md_code(action)


_OBSERVED = re.compile(
    r"(?:(?P<count>\d+) of (?P<total>\d+) rows unexpected(?:, e\.g\. (?P<examples>.*))?"
    r"|observed (?P<value>.*)|error: (?P<error>.*))",
    re.S,
)


def _observed_text(t: Any, observed: str) -> str:
    """A failed check's observed text (pipeline.validate writes it in English) in t's language;
    the values in it are data and stay as they are."""
    match = _OBSERVED.fullmatch(observed)
    if match is None:
        return observed
    if match["count"] is not None:
        said = t("obs_unexpected", count=match["count"], total=match["total"])
        return said + (t("obs_examples", examples=match["examples"]) if match["examples"] is not None else "")
    if match["value"] is not None:
        return t("obs_observed", value=match["value"])
    return t("obs_error", message=match["error"])


def _reason_text(t: Any, reason: str) -> str:
    """What an unallocated_reason code ('unmapped_workload:sandbox') means, in t's language; ''
    for an unknown code (the code itself is shown beside it)."""
    code, _, value = reason.partition(":")
    return t(f"reason_{code}", value=value) if f"reason_{code}" in TEXT else ""


def _html(data: ReportData, charts: dict[str, str], lang: str) -> str:
    """index.html rendered from the template, every value autoescaped."""
    import jinja2
    from markupsafe import Markup  # jinja2's own dependency

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    t = text(lang)
    env.filters["money"] = format_money
    env.filters["signed"] = _signed
    env.filters["pct"] = functools.partial(_percent, na=t("na"))
    s = data.settings
    return env.get_template(TEMPLATE).render(
        d=data,
        cube=data.cube,
        rows=_matrix_rows(data.cube),
        phase_table=phase_table(data),
        incomplete=_incomplete_text(data, t),
        charts={k: Markup(v) for k, v in charts.items()},
        buckets=BUCKETS,
        colours=CATEGORY_COLOURS,
        other_colour=OTHER_COLOUR,
        share=_share,
        failed=[c for c in data.checks if not c["success"]],
        passed=sum(1 for c in data.checks if c["success"]),
        interval=functools.partial(_interval_text, na=t("na")),
        label=functools.partial(label, t),
        reason=functools.partial(_reason_text, t),
        observed=functools.partial(_observed_text, t),
        total_saving=sum((r.saving for r in data.recommendations), ZERO),
        threshold=f"{float(s.idle_threshold) * 100:.0f}",
        discount=f"{float(s.commitment_discount) * 100:.0f}",
        lang=lang,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        html_lang=_html_lang,
        t=t,
        extracts=sorted(EXTRACTS),
    )


def _html_lang(lang: str) -> str:
    """The HTML lang attribute of a report language."""
    return "zh-Hans" if lang == "zh" else lang


# --------------------------------------------------------------------------- extracts

EXTRACTS = ("model_category", "impact", "recommendations", "daily_cost")


def _dec(value: Decimal | None) -> Decimal | None:
    """A ratio quantised to the ledger's 18 decimals (half-even) so it fits DECIMAL(38, 18)."""
    if value is None:
        return None
    with localcontext(EXACT):
        return value.quantize(Decimal(1).scaleb(-MONEY_SCALE), rounding=ROUND_HALF_EVEN)


def _extract_rows(data: ReportData, t: Any = None) -> dict[str, list[dict[str, Any]]]:
    """The extracts as rows: exact decimals stay Decimal; statistical estimates are floats; the
    recommendations' evidence is written in t's language."""
    t = t or text("en")
    cube = data.cube
    model_category = [
        {
            "month": data.month.key,
            "model_id": m,
            "category": c,
            "effective_cost": cube.cost(m, c),
            "billed_cost": cube.billed_cost(m, c),
            "currency": data.currency,
        }
        for m in cube.models()
        for c in cube.categories()
    ]
    impacts = [
        {
            "action_date": i.action.day,
            "model_id": i.action.model_id,
            "action": i.action.action,
            "scope": i.scope,
            "before_start": i.before.start,
            "after_start": i.after.start,
            "after_end": i.after.end,
            "days_before": len(i.before.days),
            "days_after": len(i.after.days),
            "before_per_1k_requests": _dec(i.change.before),
            "after_per_1k_requests": _dec(i.change.after),
            "change_per_1k_requests": _dec(i.change.absolute),
            "relative_change": _dec(i.change.relative),
            "ci95_low": i.change.low,
            "ci95_high": i.change.high,
            "did": i.did,
            "did_ci95_low": i.did_low,
            "did_ci95_high": i.did_high,
            "controls": ",".join(i.controls),
            "all_categories_relative_change": _dec(i.total.relative),
            "all_categories_ci95_low": i.total.low,
            "all_categories_ci95_high": i.total.high,
            "categories_moved": ",".join(c.category for c in i.categories if c.moved),
            "realised_saving": _dec(i.realised_saving),
            "verdict": i.verdict,
            "flags": ",".join(i.flags),
            "currency": data.currency,
        }
        for i in data.impacts
    ]
    recommendations = [
        {
            "month": data.month.key,
            "kind": r.kind,
            "subject": r.subject,
            "evidence": r.evidence_text(t),
            "amount": _dec(r.amount),
            "estimated_monthly_saving": _dec(r.saving),
            "currency": data.currency,
        }
        for r in data.recommendations
    ]
    daily = [
        {"charge_date": day, "model_id": model, "effective_cost": cost, "currency": data.currency}
        for day, model, cost in data.daily
    ]
    return {
        "model_category": model_category,
        "impact": impacts,
        "recommendations": recommendations,
        "daily_cost": daily,
    }


def _extract_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV safe to open in a spreadsheet; Decimals written in full (no exponent)."""
    if not rows:
        return ""
    return csv_text(list(rows[0]), [list(row.values()) for row in rows])


def _extract_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Rows as Parquet, money as DECIMAL(38, 18); written whole or not at all."""
    import polars as pl

    schema: dict[str, Any] = {}
    for key in rows[0] if rows else []:
        values = [r[key] for r in rows if r[key] is not None]
        first = values[0] if values else None
        if isinstance(first, Decimal):
            schema[key] = pl.Decimal(38, MONEY_SCALE)
        elif isinstance(first, bool):
            schema[key] = pl.Boolean
        elif isinstance(first, int):
            schema[key] = pl.Int64
        elif isinstance(first, float):
            schema[key] = pl.Float64
        elif isinstance(first, date):
            schema[key] = pl.Date
        else:
            schema[key] = pl.String
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame()
    tmp = path.with_name(path.name + ".tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def write_report(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    out_dir: Path,
    lang: str = "en",
    settings: ReportSettings | None = None,
) -> Path:
    """Write out_dir/ for month 'YYYY-MM': the page and the Markdown summary in every language
    (index.en.html, index.zh.html, summary.en.md, summary.zh.md; each page links to the others),
    index.html and summary.md in `lang` (the default language), the extracts (CSV and Parquet, their
    text in `lang`) and charts/*.png (in `lang`; charts/*.<language>.png in each). Return the
    index.html path."""
    t = text(lang)  # a bad language fails before anything is read
    data = collect(con, month, settings)
    texts: dict[str, str] = {}
    pngs: dict[str, bytes] = {}
    for code in LANGUAGES:  # rendered before anything is written
        svgs, code_pngs = _render_charts(data, code)
        texts[f"index.{code}.html"] = _html(data, svgs, code)
        texts[f"summary.{code}.md"] = _summary_md(data, text(code))
        pngs |= {f"{name}.{code}.png": png for name, png in code_pngs.items()}
        if code == lang:
            pngs |= {f"{name}.png": png for name, png in code_pngs.items()}
    texts["index.html"] = texts[f"index.{lang}.html"]
    texts["summary.md"] = texts[f"summary.{lang}.md"]
    extracts = _extract_rows(data, t)
    texts["model_category.csv"] = _csv_text(data)
    texts |= {f"{name}.csv": _extract_csv(rows) for name, rows in extracts.items() if name != "model_category"}
    out_dir = Path(out_dir)
    (out_dir / "charts").mkdir(parents=True, exist_ok=True)
    for name, body in texts.items():
        _write_text(out_dir / name, body)
    for name, rows in extracts.items():
        _extract_parquet(rows, out_dir / f"{name}.parquet")
    for name, png in pngs.items():
        tmp = out_dir / "charts" / f"{name}.tmp"
        tmp.write_bytes(png)
        os.replace(tmp, out_dir / "charts" / name)
    return out_dir / "index.html"
