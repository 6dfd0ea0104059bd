"""Optimisation impact: did an action really cut the effective cost per 1,000 requests?

For each action of the optimisation log, in numbered steps:
1. Windows: `before_days` days before the action day, and `after_days` days from it (default 14
   each); a window keeps only the days the model has a request count for.
2. Unit cost in each window = sum of effective cost x 1000 / sum of requests (exact `Decimal`),
   for the action's scope: `gpu` (the ledger rows measured in GPU-hours: the GPU time the model
   held on pool nodes and owned servers) for actions on serving hardware (quantisation,
   right-sizing, spot, autoscaling), `all` (all six categories) otherwise. Both are reported.
3. Change = after / before - 1, with a 95% percentile interval from a seeded bootstrap that
   resamples the days of each window (floats: a statistical estimate, not money).
4. Difference in differences against the models no action touched in the windows: the treated
   model's ratio after / before divided by the same ratio of the controls' pooled unit cost, - 1;
   its interval resamples the same days for treated and controls.
5. Categories that moved: per category, the change in cost per 1,000 requests, marked moved when
   its bootstrap interval excludes 0 and it changed by at least `moved_threshold` of its level.
6. Realised saving in the month: (unit cost before - unit cost after) x requests of the month on
   and after the action day / 1000 (exact `Decimal`, a point estimate).
7. Flags: `interval_spans_zero` (inconclusive), `other_action_in_window` (another action on the
   same model falls inside the windows: confounded), `too_few_days`, `no_controls`.

The statistics are pure functions of plain values; `load_panel` and `load_actions` read the
warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

import duckdb

from pipeline import warehouse
from pipeline.bootstrap import DRAWS, LEVEL, SEED, bootstrap_change, bootstrap_did
from pipeline.columns import BUCKETS, CATEGORIES

SCOPE_ALL = "all"
SCOPE_GPU = "gpu"
GPU_UNIT = "GPU-hours"
# Actions on serving hardware are judged on the GPU cost they act on; anything else on all cost.
ACTION_SCOPE: dict[str, str] = {
    "quantization": SCOPE_GPU,
    "quantisation": SCOPE_GPU,
    "right_sizing": SCOPE_GPU,
    "spot": SCOPE_GPU,
    "autoscaling": SCOPE_GPU,
}
WINDOW_DAYS = 14
MIN_DAYS = 7
MOVED_THRESHOLD = Decimal("0.05")
EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN)

FLAG_SPANS_ZERO = "interval_spans_zero"
FLAG_OTHER_ACTION = "other_action_in_window"
FLAG_TOO_FEW_DAYS = "too_few_days"
FLAG_NO_CONTROLS = "no_controls"


@dataclass(frozen=True)
class Action:
    """One row of the optimisation log."""

    day: date
    model_id: str
    action: str
    description: str = ""

    @property
    def scope(self) -> str:
        """The cost the action is judged on: `gpu` or `all`."""
        return ACTION_SCOPE.get(self.action.strip().lower(), SCOPE_ALL)


@dataclass(frozen=True)
class Day:
    """A model's day: requests and effective cost per scope (`all`, `gpu`, each category)."""

    requests: int
    cost: Mapping[str, Decimal]

    def of(self, scope: str) -> Decimal:
        return self.cost.get(scope, Decimal(0))


# model -> day -> Day
Panel = Mapping[str, Mapping[date, Day]]


@dataclass(frozen=True)
class Window:
    """Days [start, end) and the days of it with requests."""

    start: date
    end: date
    days: tuple[date, ...]


@dataclass(frozen=True)
class Change:
    """Unit cost before and after (exact) and the relative change with its bootstrap interval."""

    before: Decimal | None  # per 1,000 requests
    after: Decimal | None
    low: float | None  # 95% interval of the relative change (float: a statistical estimate)
    high: float | None

    @property
    def absolute(self) -> Decimal | None:
        """after - before, per 1,000 requests."""
        if self.before is None or self.after is None:
            return None
        with localcontext(EXACT):
            return self.after - self.before

    @property
    def relative(self) -> Decimal | None:
        """after / before - 1 (for reading)."""
        if self.before is None or self.after is None or self.before.is_zero():
            return None
        with localcontext(EXACT):
            return self.after / self.before - 1

    @property
    def spans_zero(self) -> bool:
        return self.low is None or self.high is None or self.low <= 0.0 <= self.high


@dataclass(frozen=True)
class CategoryMove:
    """A category's cost per 1,000 requests before and after; interval of the absolute change."""

    category: str
    before: Decimal
    after: Decimal
    low: float | None
    high: float | None
    moved: bool

    @property
    def absolute(self) -> Decimal:
        with localcontext(EXACT):
            return self.after - self.before


@dataclass(frozen=True)
class Impact:
    """The measured impact of one action."""

    action: Action
    scope: str
    before: Window
    after: Window
    change: Change  # the action's scope
    total: Change  # all six categories
    did: float | None  # difference in differences, relative
    did_low: float | None
    did_high: float | None
    controls: tuple[str, ...]
    categories: tuple[CategoryMove, ...]
    realised_saving: Decimal | None  # in the report month; positive = saved
    month_requests: int
    others: tuple[Action, ...]  # other actions on the same model inside the windows
    flags: tuple[str, ...] = field(default=())

    @property
    def conclusive(self) -> bool:
        return not self.flags

    @property
    def verdict(self) -> str:
        """`confounded`, `inconclusive` or `measured`."""
        if FLAG_OTHER_ACTION in self.flags:
            return "confounded"
        return "inconclusive" if self.flags else "measured"


# --------------------------------------------------------------------------- pure functions


def windows(
    day: date, *, before_days: int = WINDOW_DAYS, after_days: int = WINDOW_DAYS
) -> tuple[tuple[date, date], tuple[date, date]]:
    """[day - before_days, day) and [day, day + after_days)."""
    return (day - timedelta(days=before_days), day), (day, day + timedelta(days=after_days))


def unit_cost(costs: Sequence[Decimal], requests: Sequence[int], *, per: int = 1000) -> Decimal | None:
    """sum(costs) x per / sum(requests), exact to 80 digits; None without requests."""
    volume = sum(requests)
    if volume <= 0:
        return None
    with localcontext(EXACT):
        return sum(costs, Decimal(0)) * per / Decimal(volume)


def _series(panel: Panel, models: Sequence[str], days: Sequence[date], scope: str) -> tuple[list[Decimal], list[int]]:
    """Daily cost of `scope` and requests, summed over `models`, on `days`."""
    costs, requests = [], []
    for d in days:
        cells = [panel.get(m, {}).get(d) for m in models]
        costs.append(sum((c.of(scope) for c in cells if c is not None), Decimal(0)))
        requests.append(sum(c.requests for c in cells if c is not None))
    return costs, requests


def _floats(series: tuple[list[Decimal], list[int]]) -> tuple[list[float], list[float]]:
    return [float(c) for c in series[0]], [float(r) for r in series[1]]


def _change(
    panel: Panel, model: str, before: Window, after: Window, scope: str, *, draws: int, seed: int, level: float
) -> Change:
    b, a = _series(panel, [model], before.days, scope), _series(panel, [model], after.days, scope)
    low, high = bootstrap_change(_floats(b), _floats(a), draws=draws, seed=seed, level=level)
    return Change(unit_cost(*b), unit_cost(*a), low, high)


def _window(panel: Panel, model: str, start: date, end: date) -> Window:
    days = sorted(d for d, v in panel.get(model, {}).items() if start <= d < end and v.requests > 0)
    return Window(start, end, tuple(days))


def estimate(
    action: Action,
    panel: Panel,
    log: Sequence[Action],
    *,
    month: tuple[date, date] | None = None,
    before_days: int = WINDOW_DAYS,
    after_days: int = WINDOW_DAYS,
    draws: int = DRAWS,
    seed: int = SEED,
    level: float = LEVEL,
    min_days: int = MIN_DAYS,
    moved_threshold: Decimal = MOVED_THRESHOLD,
) -> Impact:
    """The impact of `action` from the daily `panel`; `log` is the whole optimisation log (to find
    other actions in the windows); `month` [start, end) is the month of the realised saving."""
    (bs, be), (as_, ae) = windows(action.day, before_days=before_days, after_days=after_days)
    model, scope = action.model_id, action.scope
    before, after = _window(panel, model, bs, be), _window(panel, model, as_, ae)
    change = _change(panel, model, before, after, scope, draws=draws, seed=seed, level=level)
    total = (
        change
        if scope == SCOPE_ALL
        else _change(panel, model, before, after, SCOPE_ALL, draws=draws, seed=seed, level=level)
    )

    in_window = [a for a in log if bs <= a.day < ae and a != action]
    others = tuple(a for a in in_window if a.model_id == model)
    touched = {a.model_id for a in in_window} | {model}
    controls = tuple(
        sorted(
            m
            for m in panel
            if m not in touched
            and unit_cost(*_series(panel, [m], before.days, scope)) not in (None, Decimal(0))
            and unit_cost(*_series(panel, [m], after.days, scope)) is not None
        )
    )
    did = did_low = did_high = None
    if controls:
        did, did_low, did_high = bootstrap_did(
            (_floats(_series(panel, [model], before.days, scope)), _floats(_series(panel, [model], after.days, scope))),
            (
                _floats(_series(panel, controls, before.days, scope)),
                _floats(_series(panel, controls, after.days, scope)),
            ),
            draws=draws,
            seed=seed,
            level=level,
        )

    moves = []
    for category in CATEGORIES:
        b, a = _series(panel, [model], before.days, category), _series(panel, [model], after.days, category)
        ub, ua = unit_cost(*b), unit_cost(*a)
        if ub is None or ua is None or (ub.is_zero() and ua.is_zero()):
            continue
        low, high = bootstrap_change(_floats(b), _floats(a), relative=False, draws=draws, seed=seed, level=level)
        low, high = (None if low is None else low * 1000), (None if high is None else high * 1000)
        with localcontext(EXACT):
            material = abs(ua - ub) >= moved_threshold * abs(ub) if not ub.is_zero() else True
        moved = material and low is not None and high is not None and not (low <= 0.0 <= high)
        moves.append(CategoryMove(category, ub, ua, low, high, moved))

    saving, month_requests = None, 0
    if month is not None and action.day < month[1]:
        start = max(action.day, month[0])
        month_requests = sum(v.requests for d, v in panel.get(model, {}).items() if start <= d < month[1])
        if change.absolute is not None:
            with localcontext(EXACT):
                saving = -change.absolute * month_requests / 1000

    flags = []
    if len(before.days) < min_days or len(after.days) < min_days:
        flags.append(FLAG_TOO_FEW_DAYS)
    if change.spans_zero:
        flags.append(FLAG_SPANS_ZERO)
    if others:
        flags.append(FLAG_OTHER_ACTION)
    if not controls:
        flags.append(FLAG_NO_CONTROLS)
    return Impact(
        action=action,
        scope=scope,
        before=before,
        after=after,
        change=change,
        total=total,
        did=did,
        did_low=did_low,
        did_high=did_high,
        controls=controls,
        categories=tuple(moves),
        realised_saving=saving,
        month_requests=month_requests,
        others=others,
        flags=tuple(flags),
    )


# --------------------------------------------------------------------------- the warehouse


_PANEL_SQL = warehouse.sql_text("report", "impact_daily_panel")

_ACTIONS_SQL = warehouse.sql_text("report", "optimization_actions")


def load_panel(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, dict[date, Day]]:
    """Daily requests and effective cost (all, GPU, per category) per registered model in
    [start, end), summed by DuckDB."""
    rows = con.execute(
        _PANEL_SQL, {"start": start, "end": end, "buckets": list(BUCKETS), "gpu_unit": GPU_UNIT}
    ).fetchall()
    cells: dict[str, dict[date, tuple[int, dict[str, Decimal]]]] = {}
    for day, model, category, cost, gpu, requests in rows:
        volume, costs = cells.setdefault(model, {}).get(day, (int(requests or 0), {}))
        if category is not None:
            costs[category] = costs.get(category, Decimal(0)) + cost
            costs[SCOPE_ALL] = costs.get(SCOPE_ALL, Decimal(0)) + cost
            costs[SCOPE_GPU] = costs.get(SCOPE_GPU, Decimal(0)) + gpu
        cells[model][day] = (volume, costs)
    return {m: {d: Day(r, c) for d, (r, c) in days.items()} for m, days in cells.items()}


def load_actions(con: duckdb.DuckDBPyConnection) -> list[Action]:
    """The whole optimisation log."""
    return [Action(d, m, a, desc) for d, m, a, desc in con.execute(_ACTIONS_SQL).fetchall()]


def month_impacts(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    *,
    before_days: int = WINDOW_DAYS,
    after_days: int = WINDOW_DAYS,
    draws: int = DRAWS,
    seed: int = SEED,
) -> list[Impact]:
    """The impact of every action that went live in [start, end) or whose after-window reaches
    into it."""
    log = load_actions(con)
    chosen = [a for a in log if a.day < end and a.day + timedelta(days=after_days) > start]
    if not chosen:
        return []
    first = min(a.day for a in chosen) - timedelta(days=before_days)
    last = max(max(a.day for a in chosen) + timedelta(days=after_days), end)
    panel = load_panel(con, first, last)
    return [
        estimate(
            a, panel, log, month=(start, end), before_days=before_days, after_days=after_days, draws=draws, seed=seed
        )
        for a in chosen
    ]
