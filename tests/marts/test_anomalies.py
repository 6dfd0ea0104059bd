"""marts.anomalies: the weekly robust band (median and MAD of the same weekday over the last
weeks), worked by hand on five weeks of one model's cost."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pipeline.warehouse import refresh_telemetry_days
from tests.marts.conftest import add_cost

MONDAYS = {
    date(2026, 1, 5): "100",
    date(2026, 1, 12): "110",
    date(2026, 1, 19): "90",
    date(2026, 1, 26): "130",
    date(2026, 2, 2): "150",
}


def _five_weeks(con) -> None:
    """Monday 5 January to Saturday 7 February 2026: weekdays 100, weekends 10, the Mondays above;
    Tuesday 3 February has no cost at all; Wednesday 4 February's labor is 1000 (history: 100)."""
    day = date(2026, 1, 5)
    while day <= date(2026, 2, 7):
        if day == date(2026, 2, 3):
            pass
        elif day in MONDAYS:
            add_cost(con, day, "m", "hardware", MONDAYS[day])
        else:
            add_cost(con, day, "m", "hardware", "10" if day.weekday() >= 5 else "100")
        add_cost(con, day, "m", "labor", "1000" if day == date(2026, 2, 4) else ("0" if day.weekday() >= 5 else "100"))
        day += timedelta(days=1)


def _anomalies(con) -> dict[tuple[date, str], tuple]:
    rows = con.execute(
        "select charge_date, category, direction, actual, expected, mad, lower_bound, upper_bound, excess "
        "from marts.anomalies"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_the_band_by_hand(con) -> None:
    _five_weeks(con)
    found = _anomalies(con)
    # Scored from 5 Jan + 4 weeks = Monday 2 February (a full history) to the last ledger day.
    # Monday 2 Feb: history 100, 110, 90, 130 -> median (100 + 110) / 2 = 105; deviations 5, 5, 15,
    # 25 -> MAD (5 + 15) / 2 = 10; half-width max(3 x 1.4826 x 10 = 44.478, 0.25 x 105 = 26.25, 1)
    # = 44.478 -> band [60.522, 149.478]: 150 is above by 0.522.
    assert found[(date(2026, 2, 2), "hardware")] == (
        "above",
        Decimal(150),
        Decimal(105),
        Decimal(10),
        Decimal("60.522"),
        Decimal("149.478"),
        Decimal("0.522"),
    )
    # Tuesday 3 Feb: no cost (0) against Tuesdays of 100, 100, 100, 100: median 100, MAD 0 ->
    # half-width max(0, 25, 1) = 25 -> band [75, 125]: 0 is below by 75.
    assert found[(date(2026, 2, 3), "hardware")] == (
        "below",
        Decimal(0),
        Decimal(100),
        Decimal(0),
        Decimal(75),
        Decimal(125),
        Decimal(-75),
    )
    # Saturday 7 Feb costs 10, a tenth of a weekday, but Saturdays always do: no anomaly. Labor
    # (1000 on Wednesday the 4th) is not a watched category by default. Nothing else stands out.
    assert set(found) == {(date(2026, 2, 2), "hardware"), (date(2026, 2, 3), "hardware")}


def test_watched_categories_and_band_come_from_the_settings(con) -> None:
    _five_weeks(con)
    # labor watched, a band of 2 MADs and at least 10 % of the median
    con.execute("insert into meta.anomaly_settings values (4, 2, 0.10, 1, ['hardware', 'labor'])")
    found = _anomalies(con)
    # Wednesday 4 Feb labor: history 100 x 4 -> band [90, 110]; 1000 is above by 890
    assert found[(date(2026, 2, 4), "labor")] == (
        "above",
        Decimal(1000),
        Decimal(100),
        Decimal(0),
        Decimal(90),
        Decimal(110),
        Decimal(890),
    )
    # Monday 2 Feb: half-width max(2 x 1.4826 x 10 = 29.652, 10.5, 1) -> band [75.348, 134.652]:
    # 150 is above by 15.348
    assert found[(date(2026, 2, 2), "hardware")][-1] == Decimal("15.348")


def test_no_day_is_scored_before_its_history_is_complete(con) -> None:
    # Monday 26 January (130 against 100, 110, 90) would be flagged with a shorter history, but
    # 5 Jan + 4 weeks is 2 Feb: nothing before it is scored
    _five_weeks(con)
    assert min(d for d, _ in _anomalies(con)) == date(2026, 2, 2)


def _metered_until_7_february(con) -> None:
    """The five weeks, a monthly fee spread over 8-28 February (5.00 a day), and one metered
    billing charge of a day, on 7 February: the last day metered billing reaches."""
    _five_weeks(con)
    for i in range(8, 29):
        add_cost(con, date(2026, 2, i), "m", "software", "5")
    con.execute(
        "insert into staging.billing (load_id, row_number, BillingPeriodStart, ChargePeriodStart, ChargePeriodEnd, "
        "ChargeCategory, BilledCost, EffectiveCost, BillingCurrency, ProviderName, x_BillingPeriod, x_SourceFormat) "
        "values ('b', 1, '2026-02-01', '2026-02-07', '2026-02-08', 'Usage', 1, 1, 'USD', 'AWS', '2026-02', 'focus-1.2')"
    )


def test_days_whose_metered_data_has_not_arrived_are_not_scored(con) -> None:
    # a monthly fee spread over February reaches the 28th, but metered billing (a charge of a day)
    # stops on 7 February: 8-28 February, which would all look like drops, are not scored
    _metered_until_7_february(con)
    assert con.execute("select data_through, complete from marts.data_through where month = '2026-02'").fetchone() == (
        date(2026, 2, 7),
        False,
    )
    assert max(d for d, _ in _anomalies(con)) == date(2026, 2, 3)


def test_gpu_samples_carry_the_data_through_day_once_their_summary_is_brought_up_to_date(con) -> None:
    # metered billing stops on 7 February; a telemetry file's samples reach 10 February 23:59.
    # The days with samples come from ledger.telemetry_days, which builds, validations and
    # publishes bring up to date: before that the samples are not seen (7th), after it the 10th.
    _metered_until_7_february(con)
    con.execute(
        "insert into staging.gpu_samples (load_id, row_number, metric, ts, step_seconds, hostname, gpu, value) "
        "values ('t', 1, 'DCGM_FI_DEV_GPU_UTIL', '2026-02-09 12:00', 60, 'h', '0', 50), "
        "('t', 2, 'DCGM_FI_DEV_GPU_UTIL', '2026-02-10 23:59', 60, 'h', '0', 50)"
    )
    through = "select data_through from marts.data_through where month = '2026-02'"
    assert con.execute(through).fetchall() == [(date(2026, 2, 7),)]
    refresh_telemetry_days(con)
    assert con.execute(through).fetchall() == [(date(2026, 2, 10),)]
