"""Month-end cost forecasts with an interval (marts.cost_forecast).

Method, per month, scope and category:
1. Cost to date: the month's effective cost from its first day to its data-through day (the last
   day metered data reaches; marts.data_through).
2. Weekday run rate: each remaining day of the month is expected to cost the mean cost of the
   same weekday over the last 28 days up to the data-through day (days before the ledger starts
   do not count; a weekday never seen takes the mean of all the days seen). Labor is booked on
   working days only, so a plain daily mean would over-forecast weekends and under-forecast
   weekdays.
3. Interval: a seeded bootstrap (the impact report's draws, seed and percentile interval): each
   draw takes every remaining day's cost from the observed days of its weekday, with replacement;
   the interval is the central `level` percentiles of cost to date + the drawn remainder. It
   reflects day-to-day variation, not a trend the history does not show.
A complete month (data through its last day) is its own forecast.
The statistics are pure functions of plain values; `refresh` reads and writes the warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import duckdb
import numpy as np

from pipeline import warehouse
from pipeline.bootstrap import DRAWS, LEVEL, SEED, percentile_interval
from pipeline.impact import EXACT

HISTORY_DAYS = 28
QUANTUM = Decimal(1).scaleb(-18)  # DECIMAL(38, 18)
ALL = "all"


@dataclass(frozen=True)
class Forecast:
    actual_to_date: Decimal
    forecast: Decimal
    low: float
    high: float
    days_observed: int
    days_remaining: int
    method: str  # weekday_run_rate | complete


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def forecast_month(
    daily: Mapping[date, Decimal],
    *,
    month_start: date,
    month_end: date,
    data_through: date,
    ledger_start: date,
    draws: int = DRAWS,
    seed: int = SEED,
    level: float = LEVEL,
) -> Forecast:
    """The month's forecast from its daily costs (`daily`: a day missing costs 0)."""
    zero = Decimal(0)
    with localcontext(EXACT):
        actual = sum((daily.get(d, zero) for d in _days(month_start, data_through)), zero)
    remaining = _days(data_through + timedelta(days=1), month_end)
    if not remaining:
        return Forecast(actual, actual, float(actual), float(actual), 0, 0, "complete")
    history = _days(max(ledger_start, data_through - timedelta(days=HISTORY_DAYS - 1)), data_through)
    by_weekday: dict[int, list[Decimal]] = defaultdict(list)
    for d in history:
        by_weekday[d.weekday()].append(daily.get(d, zero))
    everything = [daily.get(d, zero) for d in history] or [zero]

    def seen(weekday: int) -> list[Decimal]:
        return by_weekday.get(weekday) or everything

    with localcontext(EXACT):
        point = actual + sum((sum(seen(d.weekday()), zero) / len(seen(d.weekday())) for d in remaining), zero)
    rng = np.random.default_rng(seed)
    drawn = np.zeros(draws)
    counts: dict[int, int] = defaultdict(int)
    for d in remaining:
        counts[d.weekday()] += 1
    for weekday in sorted(counts):  # a fixed order: the same draws every run
        values = np.asarray([float(v) for v in seen(weekday)])
        drawn += values[rng.integers(0, values.size, size=(draws, counts[weekday]))].sum(axis=1)
    low, high = percentile_interval(float(actual) + drawn, level)
    return Forecast(
        actual,
        point.quantize(QUANTUM, rounding=ROUND_HALF_EVEN),
        float(actual) if low is None else low,
        float(actual) if high is None else high,
        len(history),
        len(remaining),
        "weekday_run_rate",
    )


@contextmanager
def kept_through(con: duckdb.DuckDBPyConnection, months: list[str]) -> Iterator[None]:
    """Keep marts.data_through's rows of `months` in the temporary table _data_through, which the
    forecast and the marts' reconciliation read, while the block runs: the view groups every GPU
    sample, so it is computed once per publish."""
    con.execute(
        "create or replace temp table _data_through as select * from marts.data_through where list_contains(?, month)",
        [months],
    )
    try:
        yield
    finally:
        con.execute("drop table if exists _data_through")


def refresh(
    con: duckdb.DuckDBPyConnection, months: list[str], *, draws: int = DRAWS, seed: int = SEED, level: float = LEVEL
) -> int:
    """Replace marts.cost_forecast rows of `months` (inside the caller's transaction), from the
    data_through rows kept_through keeps; return the rows written."""
    found = warehouse.first_row(con, "select min(charge_date) from ledger.cost_ledger")
    ledger_start = found[0] if found else None
    rows: list[tuple] = []
    for month in months:
        con.execute("delete from marts.cost_forecast where month = ?", [month])
        status = warehouse.first_row(
            con, "select month_start, month_end, data_through from _data_through where month = ?", [month]
        )
        if status is None or ledger_start is None:
            continue
        month_start, month_end, through = status
        window_start = min(month_start, through - timedelta(days=HISTORY_DAYS - 1))
        query = warehouse.sql_text("publish", "daily_cost_by_scope")
        series = con.execute(query, {"start": window_start, "end": month_end}).fetchall()
        for (kind, scope, category, currency), daily in _grouped(series).items():
            f = forecast_month(
                daily,
                month_start=month_start,
                month_end=month_end,
                data_through=through,
                ledger_start=ledger_start,
                draws=draws,
                seed=seed,
                level=level,
            )
            rows.append(
                (
                    month,
                    kind,
                    scope,
                    category,
                    currency,
                    through,
                    f.days_observed,
                    f.days_remaining,
                    f.actual_to_date,
                    f.forecast,
                    f.low,
                    f.high,
                    level,
                    f.method,
                )
            )
    warehouse.insert_values(con, "insert into marts.cost_forecast", rows)
    return len(rows)


def _grouped(series: list[tuple]) -> dict[tuple[str, str, str, str], dict[date, Decimal]]:
    """(scope kind, scope, category, currency) -> day -> cost, plus each scope's `all` categories."""
    grouped: dict[tuple[str, str, str, str], dict[date, Decimal]] = defaultdict(dict)
    for kind, scope, category, currency, day, cost in series:
        grouped[(kind, scope, category, currency)][day] = cost
        total = grouped[(kind, scope, ALL, currency)]
        total[day] = total.get(day, Decimal(0)) + cost
    return dict(sorted(grouped.items()))
