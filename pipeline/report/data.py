"""What the report shows, as data: the month, the model x category cube with its subtotals,
month over month, the report's settings and everything read for one month (`ReportData`), with
the small derivations the page, the summary and the extracts share (the model x category and
phase tables, shares, the incomplete-month note) and the colours every chart and table uses.

Every amount is a `Decimal` summed by DuckDB; Python only arranges them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

from pipeline import impact as impact_
from pipeline import recommend as recommend_
from pipeline.columns import BUCKETS, CATEGORIES, MONEY_SCALE, PHASES
from pipeline.errors import CostLedgerError
from pipeline.i18n import label, text

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
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


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


def matrix_rows(cube: Cube) -> list[dict[str, Any]]:
    """The model x category table: one dict per model with each category and the total."""
    return [
        {
            "model_id": m,
            "cells": [cube.cost(m, c) for c in cube.categories()],
            "total": cube.cost(m),
        }
        for m in cube.models()
    ]


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


def incomplete_text(data: ReportData, t: Any) -> str:
    """The incomplete-month note, naming the month's sources in t's language ('' when complete)."""
    if not data.incomplete_sources:
        return ""
    return t("incomplete", sources=", ".join(label(t, "src_", s) for s in data.incomplete_sources))


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """part in percent of whole (for reading), None when whole is 0."""
    if whole.is_zero():
        return None
    with localcontext(EXACT):
        return part * 100 / whole
