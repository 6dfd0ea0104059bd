"""Month-end forecasts (pipeline.marts.forecast): the weekday run rate and its bootstrap interval,
worked by hand on a tiny month."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pipeline.marts import forecast
from pipeline.marts.forecast import forecast_month
from tests.marts.conftest import add_cost

FEB = {"month_start": date(2026, 2, 1), "month_end": date(2026, 2, 28)}


def _fortnight() -> dict[date, Decimal]:
    """1-14 February 2026 (the 1st is a Sunday): weekdays 10, weekends 2, but Monday the 9th 20."""
    daily = {}
    for i in range(14):
        day = date(2026, 2, 1) + timedelta(days=i)
        daily[day] = Decimal(2) if day.weekday() >= 5 else Decimal(10)
    daily[date(2026, 2, 9)] = Decimal(20)
    return daily


def test_the_weekday_run_rate_and_its_interval_by_hand() -> None:
    # To date (1-14 Feb): Sundays 1, 8: 2 + 2; Mondays 2, 9: 10 + 20; Tue-Fri x 2 weeks: 8 x 10 = 80;
    # Saturdays 7, 14: 2 + 2 -> 4 + 30 + 80 + 4 = 118.
    # Remaining (15-28 Feb), each day at the mean of its weekday so far: Sundays 2 x 2 = 4, Mondays
    # 16 and 23 at (10 + 20) / 2 = 15 -> 30, Tue-Fri 8 x 10 = 80, Saturdays 2 x 2 = 4 -> 118.
    # Forecast 118 + 118 = 236. Only the Mondays vary: two draws from {10, 20} sum to 20 (1/4),
    # 30 (1/2) or 40 (1/4), so the 2.5th and 97.5th percentiles are 20 and 40:
    # interval 118 + 88 + 20 = 226 to 118 + 88 + 40 = 246.
    f = forecast_month(_fortnight(), **FEB, data_through=date(2026, 2, 14), ledger_start=date(2026, 2, 1))
    assert f.actual_to_date == Decimal(118)
    assert f.forecast == Decimal(236)
    assert (f.low, f.high) == (226.0, 246.0)
    assert (f.days_observed, f.days_remaining, f.method) == (14, 14, "weekday_run_rate")


def test_a_weekend_left_is_forecast_at_the_weekend_rate() -> None:
    # 1-27 February: weekdays 10, weekends 2; data through Friday the 27th. To date: 20 weekdays x 10
    # + 7 weekend days x 2 = 214. Left: Saturday the 28th, at the mean of the Saturdays seen (7, 14,
    # 21: 2 each) = 2 -> 216, with nothing to vary. A flat daily mean would add 214 / 27 = 7.93.
    daily = {}
    for i in range(27):
        day = date(2026, 2, 1) + timedelta(days=i)
        daily[day] = Decimal(2) if day.weekday() >= 5 else Decimal(10)
    f = forecast_month(daily, **FEB, data_through=date(2026, 2, 27), ledger_start=date(2026, 2, 1))
    assert (f.actual_to_date, f.forecast, f.low, f.high) == (Decimal(214), Decimal(216), 216.0, 216.0)
    assert (f.days_observed, f.days_remaining) == (27, 1)  # the 28-day history starts at the ledger's first day


def test_days_before_the_ledger_are_no_history() -> None:
    # the fortnight with the ledger starting on the 8th: history 8-14 February only (Sunday 2,
    # Monday 20, Tue-Fri 10, Saturday 2); to date is still 118. Left: Sundays 2 x 2 = 4, Mondays
    # 2 x 20 = 40, Tue-Fri 8 x 10 = 80, Saturdays 2 x 2 = 4 -> 128; forecast 246, one value per
    # weekday, so nothing to draw from: the interval is the point.
    f = forecast_month(_fortnight(), **FEB, data_through=date(2026, 2, 14), ledger_start=date(2026, 2, 8))
    assert (f.forecast, f.days_observed, f.low, f.high) == (Decimal(246), 7, 246.0, 246.0)


def test_a_complete_month_is_its_own_forecast() -> None:
    daily = {date(2026, 2, 1) + timedelta(days=i): Decimal("1.25") for i in range(28)}
    f = forecast_month(daily, **FEB, data_through=date(2026, 2, 28), ledger_start=date(2026, 1, 1))
    # 28 x 1.25 = 35.00, nothing left to forecast
    assert (f.actual_to_date, f.forecast, f.low, f.high, f.method) == (Decimal(35), Decimal(35), 35.0, 35.0, "complete")


def test_refresh_writes_every_scope_from_the_published_ledger(con) -> None:
    # model m (team t, from the registry) costs the fortnight's series in hardware, and 1.00 a day
    # of software from 1 to 14 February; data through the 14th (the last ledger day: no metered
    # data). Hardware forecast 236 (as above); software 14 x 1 + 14 x 1 = 28; all 264.
    for day, cost in _fortnight().items():
        add_cost(con, day, "m", "hardware", cost)
        add_cost(con, day, "m", "software", "1")
    con.execute("insert into meta.model_registry values ('m', 'M', 'line', 't', 'o', null, null)")
    with forecast.kept_through(con, ["2026-02"]):  # as publish keeps marts.data_through's rows
        assert forecast.refresh(con, ["2026-02"]) == 5 * 3  # 5 scope kinds x (2 categories + all)
    rows = {
        (k, s, c): (a, f)
        for k, s, c, a, f in con.execute(
            "select scope_kind, scope, category, actual_to_date, forecast from marts.cost_forecast"
        ).fetchall()
    }
    assert rows[("model", "m", "hardware")] == (Decimal(118), Decimal(236))
    assert rows[("team", "t", "software")] == (Decimal(14), Decimal(28))
    assert rows[("total", "*", "all")] == (Decimal(132), Decimal(264))
    assert rows[("business_line", "line", "all")] == rows[("owner", "o", "all")] == (Decimal(132), Decimal(264))
    # a refresh replaces the month's rows, never adds to them
    with forecast.kept_through(con, ["2026-02"]):
        forecast.refresh(con, ["2026-02"])
    assert con.execute("select count(*) from marts.cost_forecast").fetchone() == (15,)
