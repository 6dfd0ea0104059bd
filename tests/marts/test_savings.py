"""marts.optimization_savings (pipeline.marts.savings): each action's saving per month, the running
total and the claim, worked by hand; its intervals are the impact report's bootstrap."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipeline.bootstrap import bootstrap_change
from pipeline.impact import Action, Day
from pipeline.marts.savings import action_savings, month_spans, verdict

D = Decimal
ACTION = Action(date(2026, 1, 4), "m", "quantization")  # judged on GPU cost (scope gpu)
MONTHS = month_spans(date(2026, 1, 1), date(2026, 2, 28))


def _day(gpu: str, requests: int, other: str = "5") -> Day:
    return Day(requests, {"gpu": D(gpu), "hardware": D(gpu), "labor": D(other), "all": D(gpu) + D(other)})


def test_saving_per_month_and_running_total_by_hand() -> None:
    # Before (1-3 Jan): 10.00 of GPU a day for 1000 requests -> baseline 10.00 per 1,000 requests.
    # January from the action day (4-5 Jan): 7.00 a day for 1000 requests: expected 10 + 10 = 20,
    # paid 14, saved 6 (cut 6 / 20 = 0.30). February (1-2 Feb): 7.00 a day for 2000 requests:
    # expected 20 + 20 = 40, paid 14, saved 26 (cut 0.65). Running total 6 + 26 = 32, cut 32 / 60.
    # Every day alike: each bootstrap draw gives the same, so each interval is its point.
    panel = {
        "m": {
            **{date(2026, 1, d): _day("10", 1000) for d in (1, 2, 3)},
            **{date(2026, 1, d): _day("7", 1000) for d in (4, 5)},
            **{date(2026, 2, d): _day("7", 2000) for d in (1, 2)},
        }
    }
    found = action_savings(ACTION, panel, MONTHS, claimed_percent=D(30))
    assert found.baseline == D(10)
    jan, feb = found.months
    fields = ("month", "days", "requests", "expected", "actual", "saving")
    assert tuple(getattr(jan, f) for f in fields) == ("2026-01", 2, 2000, D(20), D(14), D(6))
    assert tuple(getattr(feb, f) for f in fields) == ("2026-02", 2, 4000, D(40), D(14), D(26))
    assert (jan.cumulative, feb.cumulative) == (D(6), D(32))
    assert (feb.saving_low, feb.saving_high, feb.cumulative_low, feb.cumulative_high) == (26.0, 26.0, 32.0, 32.0)
    assert (jan.cut, feb.cut) == (0.3, 0.65)
    assert feb.cumulative_cut == pytest.approx(32 / 60, rel=1e-15)
    # the model's whole cost on those days: (7 + 5) x 2 = 24 a month
    assert (jan.model_cost, feb.model_cost) == (D(24), D(24))
    # a 30 % claim: supported by January's running total (0.30 exactly), understated by February's
    # (the data say 53 %)
    assert (jan.claim, feb.claim) == ("supported", "understated")


def test_the_first_months_cut_interval_is_the_impact_reports() -> None:
    # 14 days before and the 14 days of the month from the action day, with varying cost and
    # requests: the first month's cut interval is minus the impact report's change interval, draw
    # for draw (same seed, same days, same order of draws)
    day = date(2026, 3, 15)
    before = {day - timedelta(days=i): _day(str(40 + i % 5), 1000 + 37 * i) for i in range(1, 15)}
    after = {day + timedelta(days=i): _day(str(28 + i % 3), 1000 + 53 * i) for i in range(17)}
    panel = {"m": before | after}
    (march,) = action_savings(Action(day, "m", "quantization"), panel, month_spans(day, day), draws=500, seed=7).months
    b_days, a_days = sorted(before), sorted(after)
    low, high = bootstrap_change(
        ([float(before[d].of("gpu")) for d in b_days], [before[d].requests for d in b_days]),
        ([float(after[d].of("gpu")) for d in a_days], [after[d].requests for d in a_days]),
        draws=500,
        seed=7,
    )
    assert march.cut_low == pytest.approx(-high, abs=1e-12) and march.cut_high == pytest.approx(-low, abs=1e-12)
    assert march.cut_low <= march.cut <= march.cut_high
    assert march.saving_low <= float(march.saving) <= march.saving_high


@pytest.mark.parametrize(
    "claimed, low, high, expected",
    [
        (None, 0.2, 0.3, "no_claim"),
        (D(30), None, None, "no_data"),
        (D(30), 0.28, 0.31, "supported"),
        (D(30), 0.27, 0.295, "overstated"),
        (D(25), 0.27, 0.295, "understated"),
    ],
)
def test_claims_against_the_interval(claimed, low, high, expected) -> None:
    assert verdict(claimed, low, high) == expected


def test_an_action_without_requests_before_it_has_no_baseline() -> None:
    panel = {"m": {date(2026, 1, 5): _day("7", 1000)}}
    (jan, feb) = action_savings(ACTION, panel, MONTHS, claimed_percent=D(30)).months
    assert jan.saving is None and jan.actual == D(7) and jan.claim == "no_data"
    assert feb.days == 0 and feb.actual == 0
