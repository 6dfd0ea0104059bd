"""Reading the warehouse for one month's report. Every query is a file of `sql/report/`, named
after what it answers, and reads the published layers (ledger, marts, meta, staging) only; this
module binds its parameters and shapes the rows into `ReportData`.
"""

from __future__ import annotations

import functools
from decimal import Decimal, localcontext
from typing import Any

import duckdb

from pipeline import impact as impact_
from pipeline import recommend as recommend_
from pipeline import warehouse
from pipeline.columns import BUCKETS
from pipeline.errors import CostLedgerError
from pipeline.report.data import EXACT, Cube, Month, MonthOverMonth, ReportData, ReportSettings, share

TOP_REASONS = 15  # rows of the largest amounts no model carries
HR_AND_PLANS = ("labor", "milestones")  # a month with rows from these sources only is incomplete


@functools.cache
def query(name: str) -> str:
    """The text of sql/report/<name>.sql."""
    return warehouse.sql_text("report", name)


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
    return [r[0] for r in _rows(con, query("currencies"), **month.params())]


def _cube(con: duckdb.DuckDBPyConnection, month: Month) -> Cube:
    """The month's cost by model and category with all subtotals."""
    rows = _query(con, query("cost_by_model_and_category"), **month.params())
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
        daily=_rows(con, query("daily_cost_by_model"), **p),
        events=_rows(con, query("optimisation_events"), **p),
        reasons=_query(con, query("top_bucket_reasons"), **p),
        unit_costs=_unit_costs(_query(con, query("unit_costs_by_model"), **p)),
        reconciliation=_query(con, query("billing_reconciliation"), **p),
        checks=_query(con, query("check_results"), **p),
        loads=_query(con, query("input_files"), **p),
        quarantined=_rows(con, query("quarantined_rows"), **p)[0][0],
        run_ids=[r[0] for r in _rows(con, query("run_ids"), **p)],
        impacts=impacts,
        recommendations=recommendations,
        restatements=_query(con, query("restated_files"), **p),
        restated_money=_query(con, query("restated_money"), **p),
        milestones=_query(con, query("milestones"), **p),
        unit_daily=_query(con, query("unit_costs_by_day"), **p),
        settings=s,
        registry=[r[0] for r in _rows(con, query("registered_models"))],
        pools=_pools(_query(con, query("gpu_pool_idle"), **p)),
        opportunity=_rows(con, query("opportunity_cost"), **p)[0][0],
        phases=_query(con, query("cash_cost_by_phase"), **p),
        incomplete_sources=_incomplete(con, p),
    )


def _pools(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pool's idle share: idle GPU-hours in percent of all its GPU-hours (None without any)."""
    return [row | {"idle_share": share(Decimal(row["idle_hours"]), Decimal(row["gpu_hours"] or 0))} for row in rows]


def _incomplete(con: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> list[str]:
    """The month's sources when they are HR and milestones only (an incomplete month), else []."""
    sources = [r[0] for r in _rows(con, query("sources"), **p)]
    return sources if sources and set(sources) <= set(HR_AND_PLANS) else []


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
