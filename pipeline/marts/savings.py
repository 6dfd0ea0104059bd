"""Savings over time (marts.optimization_savings): each optimisation's realised saving in every
month since it went live, its running total, and what the data says of the saving it claimed.

Method, per action (the impact report's windows, scope and bootstrap, pipeline.impact):
1. Baseline: the scope's cost per 1,000 requests over the `before_days` days before the action
   (days with requests), exact.
2. Each month from the action's month to the ledger's last: the days on or after the action day
   with requests; expected cost = baseline x their requests / 1000; saving = expected - the scope
   cost actually paid on them (exact). The running total adds the months up.
3. Intervals: a seeded bootstrap. Each draw resamples the baseline days once and each month's
   days, so every month of a draw shares its baseline and the running total's interval is joint.
   The first month's cut (saving / expected) uses the same draws as the impact report's change,
   so on the same days both give the same interval.
4. Claim: the optimisation log's claimed_saving_percent against the running total's cut interval:
   supported (inside), overstated (above it), understated (below it).
The statistics are pure functions of plain values; `refresh` reads and writes the warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import duckdb
import numpy as np

from pipeline import warehouse
from pipeline.bootstrap import DRAWS, LEVEL, SEED, percentile_interval, resample_days
from pipeline.impact import (
    EXACT,
    SCOPE_ALL,
    WINDOW_DAYS,
    Action,
    Panel,
    load_actions,
    load_panel,
    unit_cost,
)

QUANTUM = Decimal(1).scaleb(-18)


@dataclass(frozen=True)
class MonthSaving:
    month: str
    days: int
    requests: int
    expected: Decimal | None
    actual: Decimal
    saving: Decimal | None
    saving_low: float | None
    saving_high: float | None
    cumulative: Decimal | None
    cumulative_low: float | None
    cumulative_high: float | None
    cut: float | None
    cut_low: float | None
    cut_high: float | None
    cumulative_cut: float | None
    cumulative_cut_low: float | None
    cumulative_cut_high: float | None
    model_cost: Decimal
    claim: str
    others: int  # other actions on the model live by the month's end


@dataclass(frozen=True)
class ActionSavings:
    baseline: Decimal | None  # scope cost per 1,000 requests before the action, exact
    months: tuple[MonthSaving, ...]


def month_spans(first: date, last: date) -> list[tuple[str, date, date]]:
    """(YYYY-MM, first day, day after the last) of every month from `first`'s to `last`'s."""
    spans, start = [], first.replace(day=1)
    while start <= last:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        spans.append((start.strftime("%Y-%m"), start, end))
        start = end
    return spans


def verdict(claimed_percent: Decimal | None, low: float | None, high: float | None) -> str:
    """supported, overstated or understated: a claimed cut (percent) against a cut interval."""
    if claimed_percent is None:
        return "no_claim"
    if low is None or high is None:
        return "no_data"
    claimed = float(claimed_percent) / 100.0
    if claimed > high:
        return "overstated"
    return "understated" if claimed < low else "supported"


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def action_savings(
    action: Action,
    panel: Panel,
    months: Sequence[tuple[str, date, date]],
    log: Sequence[Action] = (),
    *,
    claimed_percent: Decimal | None = None,
    before_days: int = WINDOW_DAYS,
    draws: int = DRAWS,
    seed: int = SEED,
    level: float = LEVEL,
) -> ActionSavings:
    """The action's saving in each of `months` (YYYY-MM, first day, day after the last) that ends
    after the action day, from the daily `panel` (requests and cost per scope); `log` is the whole
    optimisation log (other actions on the model confound a month)."""
    days = panel.get(action.model_id, {})
    zero = Decimal(0)
    start = action.day - timedelta(days=before_days)
    before = [d for d in sorted(days) if start <= d < action.day and days[d].requests > 0]
    b_cost, b_req = [days[d].of(action.scope) for d in before], [days[d].requests for d in before]
    baseline = unit_cost(b_cost, b_req)  # per 1,000 requests
    rng = np.random.default_rng(seed)
    unit = None
    if baseline is not None:
        drawn_cost, drawn_req = resample_days(([float(c) for c in b_cost], b_req), draws=draws, rng=rng)
        unit = _ratio(drawn_cost, drawn_req)  # per request, one per draw
    rows: list[MonthSaving] = []
    total = total_expected = zero
    draws_total = draws_expected = np.zeros(draws)
    for label, first, end in months:
        if end <= action.day:
            continue
        others = sum(1 for a in log if a.model_id == action.model_id and a != action and a.day < end)
        chosen = [d for d in sorted(days) if max(first, action.day) <= d < end and days[d].requests > 0]
        cost = [days[d].of(action.scope) for d in chosen]
        requests = [days[d].requests for d in chosen]
        with localcontext(EXACT):
            actual = sum(cost, zero)
            model_cost = sum((days[d].of(SCOPE_ALL) for d in chosen), zero)
        if baseline is None:
            unknown = (None,) * 12  # saving to cumulative cut: no baseline, no estimate
            rows.append(
                MonthSaving(
                    label,
                    len(chosen),
                    sum(requests),
                    None,
                    actual,
                    *unknown,
                    model_cost,
                    verdict(claimed_percent, None, None),
                    others,
                )
            )
            continue
        with localcontext(EXACT):
            expected = (baseline * sum(requests) / 1000).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
            saving = expected - actual
            total, total_expected = total + saving, total_expected + expected
        if chosen:
            m_cost, m_req = resample_days(([float(c) for c in cost], requests), draws=draws, rng=rng)
        else:
            m_cost = m_req = np.zeros(draws)
        drawn_expected = unit * m_req
        drawn_saving = drawn_expected - m_cost
        draws_total, draws_expected = draws_total + drawn_saving, draws_expected + drawn_expected
        low, high = percentile_interval(drawn_saving, level)
        c_low, c_high = percentile_interval(draws_total, level)
        cut_low, cut_high = percentile_interval(_ratio(drawn_saving, drawn_expected), level)
        cum_low, cum_high = percentile_interval(_ratio(draws_total, draws_expected), level)
        with localcontext(EXACT):
            cut = float(saving / expected) if expected else None
            cumulative_cut = float(total / total_expected) if total_expected else None
        rows.append(
            MonthSaving(
                label,
                len(chosen),
                sum(requests),
                expected,
                actual,
                saving,
                low,
                high,
                total,
                c_low,
                c_high,
                cut,
                cut_low,
                cut_high,
                cumulative_cut,
                cum_low,
                cum_high,
                model_cost,
                verdict(claimed_percent, cum_low, cum_high),
                others,
            )
        )
    exact = None if baseline is None else baseline.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
    return ActionSavings(exact, tuple(rows))


def refresh(
    con: duckdb.DuckDBPyConnection,
    *,
    before_days: int = WINDOW_DAYS,
    draws: int = DRAWS,
    seed: int = SEED,
    level: float = LEVEL,
) -> int:
    """Replace marts.optimization_savings (inside the caller's transaction); return the rows."""
    con.execute("delete from marts.optimization_savings")
    log = load_actions(con)
    bounds = warehouse.first_row(con, "select min(charge_date), max(charge_date) from ledger.cost_ledger")
    if not log or bounds is None or bounds[0] is None:
        return 0
    claim_rows = con.execute(warehouse.sql_text("publish", "optimization_claims")).fetchall()
    claims: Mapping[tuple, Decimal | None] = {tuple(r[:4]): r[4] for r in claim_rows}
    first = min(a.day for a in log) - timedelta(days=before_days)
    panel = load_panel(con, first, bounds[1] + timedelta(days=1))
    months = month_spans(min(a.day for a in log), bounds[1])
    rows = []
    for action in log:
        claimed = claims.get((action.day, action.model_id, action.action, action.description))
        found = action_savings(
            action,
            panel,
            months,
            log,
            claimed_percent=claimed,
            before_days=before_days,
            draws=draws,
            seed=seed,
            level=level,
        )
        for m in found.months:
            share = None
            if m.saving is not None and not (m.model_cost + m.saving).is_zero():
                with localcontext(EXACT):
                    share = float(m.saving / (m.model_cost + m.saving))
            rows.append(
                (
                    action.day,
                    action.model_id,
                    action.action,
                    action.description,
                    action.scope,
                    m.month,
                    m.days,
                    m.requests,
                    found.baseline,
                    m.expected,
                    m.actual,
                    m.saving,
                    m.saving_low,
                    m.saving_high,
                    m.cumulative,
                    m.cumulative_low,
                    m.cumulative_high,
                    m.cut,
                    m.cut_low,
                    m.cut_high,
                    m.cumulative_cut,
                    m.cumulative_cut_low,
                    m.cumulative_cut_high,
                    m.model_cost,
                    share,
                    claimed,
                    m.claim,
                    m.others,
                    level,
                )
            )
    warehouse.insert_values(con, "insert into marts.optimization_savings", rows)
    return len(rows)
