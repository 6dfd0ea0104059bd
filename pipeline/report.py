"""The monthly report: one self-contained HTML page (inline CSS, inline SVG charts), a Markdown
summary and the exact model x category table as CSV, all read from the published warehouse.

Every amount is a `Decimal` summed by DuckDB; Python only arranges them. Values become floats only
on their way into matplotlib, and are rounded only for display, in `format_money`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import duckdb

from pipeline.columns import BUCKETS, CATEGORIES, MONEY_SCALE
from pipeline.errors import CostLedgerError

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
BUCKET_MEANING: dict[str, str] = {
    "__idle__": "paid GPU time no workload held",
    "__unallocated__": "no attribution rule matched (see reason)",
    "__shared__": "platform cost kept undistributed by policy",
}
BAR_CHART_MODELS = 20  # models drawn as their own bar; the rest are drawn as one "other" bar
TREND_CHART_MODELS = 8  # models drawn as their own line
TOP_REASONS = 15
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def format_money(d: Decimal, places: int = 2) -> str:
    """The one display rounding: half-even to `places` decimals, with thousands separators."""
    with localcontext(EXACT):
        rounded = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if rounded.is_zero():
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:,f}"


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
    note: str

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
    where not list_contains($buckets, model_id)
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

_LOADS_SQL = """
select source, path, left(checksum, 12) as checksum, rows_in, rows_loaded, rows_quarantined,
    status
from meta.loads
where list_contains(periods, $month)
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

_QUARANTINED_SQL = """
with month_loads as (
    select load_id from meta.loads where list_contains(periods, $month)
)

select count(*) from meta.quarantine
where load_id in (select load_id from month_loads)
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


def _month_over_month(
    con: duckdb.DuckDBPyConnection, month: Month, currency: str | None
) -> MonthOverMonth:
    """The previous month's total, when it has rows in the same currency."""
    previous = month.previous()
    currencies = _currencies(con, previous)
    if not currencies:
        return MonthOverMonth(previous, None, f"no ledger rows for {previous.key}")
    if currencies != [currency]:
        note = f"{previous.key} is in {', '.join(currencies)}: not comparable"
        return MonthOverMonth(previous, None, note)
    return MonthOverMonth(previous, _cube(con, previous).cost(), "")


def _reporting_currency(con: duckdb.DuckDBPyConnection, month: Month) -> str | None:
    """The one reporting currency of the month (None when it has no rows)."""
    currencies = _currencies(con, month)
    if len(currencies) > 1:
        raise CostLedgerError(
            f"ledger.cost_ledger has rows in several currencies for {month.key} "
            f"({', '.join(currencies)}); a report needs one reporting currency"
        )
    return currencies[0] if currencies else None


def collect(con: duckdb.DuckDBPyConnection, month: str) -> ReportData:
    """Read everything the report of `month` ('YYYY-MM') shows."""
    m = Month.parse(month)
    p = m.params() | {"buckets": list(BUCKETS), "limit": TOP_REASONS}
    currency = _reporting_currency(con, m)
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
    )


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


@contextmanager
def _chart_style() -> Iterator[None]:
    """Agg backend, text as SVG <text> (no embedded or external fonts), no mathtext parsing of
    model names, print-friendly sizes."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",
            "text.parse_math": False,
            "font.family": "sans-serif",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        yield


def _svg(fig: Any, salt: str) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE, metadata or namespace URLs
    (HTML5 does not need them), deterministic ids."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata=_SVG_METADATA, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    head, rest = svg.split(">", 1)
    return _XMLNS.sub("", head) + ">" + rest


def _short(label: str, limit: int = 28) -> str:
    """A model id shortened for an axis label (the tables show it in full)."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _bar_series(cube: Cube) -> tuple[list[str], dict[str, list[float]]]:
    """Bar labels and per-category float values; models past the limit become one bar."""
    models = cube.models()
    shown, rest = models[: BAR_CHART_MODELS - 1], models[BAR_CHART_MODELS - 1 :]
    if len(rest) == 1:
        shown, rest = models, []
    labels = [_short(m) for m in shown] + ([f"({len(rest)} other models)"] if rest else [])
    series = {}
    for category in cube.categories():
        values = [float(cube.cost(m, category)) for m in shown]
        if rest:
            values.append(sum(float(cube.cost(m, category)) for m in rest))
        series[category] = values
    return labels, series


def _category_chart(cube: Cube, currency: str) -> str:
    """Stacked bars: effective cost per model, stacked by category (negatives stack downwards)."""
    from matplotlib.figure import Figure

    labels, series = _bar_series(cube)
    with _chart_style():
        fig = Figure(figsize=(9, 4.2))
        ax = fig.subplots()
        up, down = [0.0] * len(labels), [0.0] * len(labels)
        for category, values in series.items():
            bottom = [u if v >= 0 else d for v, u, d in zip(values, up, down, strict=True)]
            colour = CATEGORY_COLOURS.get(category, OTHER_COLOUR)
            ax.bar(range(len(labels)), values, bottom=bottom, color=colour, label=category)
            up = [u + max(v, 0.0) for v, u in zip(values, up, strict=True)]
            down = [d + min(v, 0.0) for v, d in zip(values, down, strict=True)]
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_ylabel(f"effective cost ({currency})")
        ax.axhline(0, color="#333333", linewidth=0.6)
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig, "category-chart")


def _trend_series(data: ReportData) -> dict[str, list[float]]:
    """Per-model float values for every day of the month; small models summed into one line."""
    days = {d: i for i, d in enumerate(data.month.days())}
    totals: dict[str, float] = {}
    for _, model, cost in data.daily:
        totals[model] = totals.get(model, 0.0) + abs(float(cost))
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    limit = TREND_CHART_MODELS if len(ranked) > TREND_CHART_MODELS + 1 else len(ranked)
    shown = set(ranked[:limit])
    other = f"({len(ranked) - len(shown)} other models)"
    series = {m: [0.0] * len(days) for m in ranked if m in shown}
    for day, model, cost in data.daily:
        key = model if model in shown else other
        series.setdefault(key, [0.0] * len(days))[days[day]] += float(cost)
    return series


def _mark_events(ax: Any, events: list[tuple[date, str, str]]) -> None:
    """A dashed vertical line per optimisation day, labelled 'model: action'."""
    by_day: dict[date, list[str]] = {}
    for day, model, action in events:
        by_day.setdefault(day, []).append(f"{_short(model, 20)}: {action}")
    for day, labels in by_day.items():
        ax.axvline(day.day, color="#444444", linestyle="--", linewidth=0.8)
        ax.text(day.day, 1.0, " " + "; ".join(labels), transform=ax.get_xaxis_transform(),
                rotation=90, va="top", ha="right", fontsize=7, color="#222222")


def _trend_chart(data: ReportData) -> str:
    """Lines of daily effective cost per model, optimisation events as vertical lines."""
    from matplotlib.figure import Figure

    series = _trend_series(data)
    x = [d.day for d in data.month.days()]
    with _chart_style():
        fig = Figure(figsize=(9, 4.0))
        ax = fig.subplots()
        handles = [ax.plot(x, values, marker=".", linewidth=1.2)[0] for values in series.values()]
        _mark_events(ax, data.events)
        ax.set_xlim(0.5, x[-1] + 0.5)
        ax.set_xlabel(f"day of {data.month.key}")
        ax.set_ylabel(f"effective cost per day ({data.currency})")
        # Labels passed explicitly: matplotlib would hide automatic labels starting with "_".
        ax.legend(handles, [_short(m) for m in series], fontsize=7, frameon=False,
                  loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig, "trend-chart")


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
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["model_id", *cube.categories(), "total", "currency"])
    for row in _matrix_rows(cube):
        cells = [format(v, "f") for v in (*row["cells"], row["total"])]
        writer.writerow([row["model_id"], *cells, data.currency])
    return buf.getvalue()


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


def _headline_lines(data: ReportData) -> list[str]:
    """Markdown headline: totals, per category, month over month."""
    cube, cur = data.cube, data.currency
    lines = [
        f"- Effective cost: **{format_money(cube.cost())} {cur}**",
        f"- Billed cost: **{format_money(cube.billed_cost())} {cur}**",
    ]
    change, percent = data.mom.change(cube.cost()), data.mom.percent(cube.cost())
    if change is None:
        lines.append(f"- Month over month: n/a ({data.mom.note})")
    else:
        pct = f" ({_signed(percent, 1)} %)" if percent is not None else ""
        previous = data.mom.previous.key
        lines.append(f"- Month over month vs {previous}: {_signed(change)} {cur}{pct}")
    rows = [[c, format_money(cube.cost(None, c)), format_money(cube.billed_cost(None, c))]
            for c in cube.categories()]
    return lines + ["", *_md_table(["category", "effective", "billed"], rows)]


def _summary_md(data: ReportData) -> str:
    """summary.md: headline numbers, the model x category table, idle and unallocated totals."""
    cube = data.cube
    lines = [f"# AI model cost report {data.month.key}", ""]
    if cube.empty:
        empty = f"No cost recorded in ledger.cost_ledger for {data.month.key}: the total is 0."
        return "\n".join([*lines, empty, ""])
    lines += [f"Reporting currency: {data.currency}. Month = calendar month of charge_date.", ""]
    lines += _headline_lines(data)
    lines += ["", "## Effective cost by model and category", ""]
    rows = [[_md_code(r["model_id"]), *(format_money(v) for v in (*r["cells"], r["total"]))]
            for r in _matrix_rows(cube)]
    totals = ["**total**", *(format_money(cube.cost(None, c)) for c in cube.categories()),
              format_money(cube.cost())]
    lines += _md_table(["model", *cube.categories(), "total"], [*rows, totals])
    lines += ["", "## Idle and unallocated", ""]
    lines += _md_table(["bucket", "effective", "billed"],
                       [[_md_code(b), format_money(cube.cost(b)), format_money(cube.billed_cost(b))]
                        for b in BUCKETS])
    return "\n".join([*lines, ""])


def _html(data: ReportData) -> str:
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
    env.filters["money"] = format_money
    env.filters["signed"] = _signed
    charts: dict[str, Any] = {}
    if not data.cube.empty:
        charts["category"] = Markup(_category_chart(data.cube, data.currency or ""))
        charts["trend"] = Markup(_trend_chart(data))
    return env.get_template(TEMPLATE).render(
        d=data,
        cube=data.cube,
        rows=_matrix_rows(data.cube),
        charts=charts,
        buckets=BUCKETS,
        bucket_meaning=BUCKET_MEANING,
        colours=CATEGORY_COLOURS,
        other_colour=OTHER_COLOUR,
        share=_share,
        failed=[c for c in data.checks if not c["success"]],
        passed=sum(1 for c in data.checks if c["success"]),
    )


def _write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def write_report(con: duckdb.DuckDBPyConnection, *, month: str, out_dir: Path) -> Path:
    """Write out_dir/index.html and out_dir/summary.md (and out_dir/model_category.csv) for
    month 'YYYY-MM'; return the index.html path."""
    data = collect(con, month)
    texts = {  # rendered before anything is written
        "model_category.csv": _csv_text(data),
        "summary.md": _summary_md(data),
        "index.html": _html(data),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        _write_text(out_dir / name, text)
    return out_dir / "index.html"
