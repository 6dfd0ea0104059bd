"""Optimisation impact: unit costs, bootstrap intervals, difference in differences and flags,
on small panels whose expected numbers are worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipeline.bootstrap import bootstrap_change, bootstrap_did
from pipeline.impact import (
    FLAG_NO_CONTROLS,
    FLAG_OTHER_ACTION,
    FLAG_SPANS_ZERO,
    FLAG_TOO_FEW_DAYS,
    SCOPE_ALL,
    SCOPE_GPU,
    Action,
    Day,
    estimate,
    unit_cost,
    windows,
)

D = Decimal
ACTION_DAY = date(2025, 1, 15)
JANUARY = (date(2025, 1, 1), date(2025, 2, 1))


def day(requests: int, gpu: str, labor: str = "0") -> Day:
    """A day: GPU cost counts as hardware; labor is the only other category."""
    costs = {"hardware": D(gpu), "labor": D(labor), SCOPE_GPU: D(gpu), SCOPE_ALL: D(gpu) + D(labor)}
    return Day(requests, {k: v for k, v in costs.items() if v or k in (SCOPE_GPU, SCOPE_ALL)})


def series(first: date, values: list[Day]) -> dict[date, Day]:
    return {first + timedelta(days=i): v for i, v in enumerate(values)}


def panel_30_percent() -> dict[str, dict[date, Day]]:
    """Model m: GPU 10.00 a day before Jan 15, 7.00 from it, 1000 requests a day, labor 5.00 a day.
    Control c: GPU 20.00 a day on 2000 requests throughout."""
    return {
        "m": series(date(2025, 1, 11), [day(1000, "10.00", "5.00")] * 4 + [day(1000, "7.00", "5.00")] * 4),
        "c": series(date(2025, 1, 11), [day(2000, "20.00")] * 8),
    }


def test_windows_are_half_open() -> None:
    # 14 days before: Jan 1 .. Jan 14; 14 days after: Jan 15 .. Jan 28
    assert windows(ACTION_DAY) == ((date(2025, 1, 1), date(2025, 1, 15)), (date(2025, 1, 15), date(2025, 1, 29)))


def test_unit_cost_is_a_ratio_of_sums() -> None:
    # (1.00 + 2.00) x 1000 / (1000 + 2000) = 1.00, not the mean of the daily ratios (1.00, 1.00)
    assert unit_cost([D("1.00"), D("2.00")], [1000, 2000]) == D(1)
    # 1.00 x 1000 / 3 = 333.33...: 80 significant digits, nothing rounded to cents
    assert str(unit_cost([D("1.00")], [3]))[:12] == "333.33333333"
    assert unit_cost([D("1.00")], [0]) is None


def test_a_30_percent_cut_with_a_flat_control() -> None:
    action = Action(ACTION_DAY, "m", "quantization", "int8")
    impact = estimate(action, panel_30_percent(), [action], month=JANUARY, before_days=4, after_days=4, min_days=4)
    assert impact.scope == SCOPE_GPU
    assert impact.before.days == tuple(date(2025, 1, d) for d in range(11, 15))
    # GPU: 4 x 10.00 x 1000 / 4000 = 10.00 before; 4 x 7.00 x 1000 / 4000 = 7.00 after
    assert (impact.change.before, impact.change.after) == (D(10), D(7))
    # 7 / 10 - 1 = -0.3; every day alike, so every bootstrap draw gives -0.3 too
    assert impact.change.relative == D("-0.3")
    assert impact.change.low == pytest.approx(-0.3) and impact.change.high == pytest.approx(-0.3)
    # all categories: 15.00 -> 12.00 per 1k requests: -20 %
    assert (impact.total.before, impact.total.after, impact.total.relative) == (D(15), D(12), D("-0.2"))
    # control c: 10.00 per 1k before and after; DiD = (7 / 10) / (10 / 10) - 1 = -0.3
    assert impact.controls == ("c",)
    assert impact.did == pytest.approx(-0.3) and impact.did_low == pytest.approx(-0.3)
    # hardware moved by -3.00 per 1k; labor stayed at 5.00
    moves = {m.category: m for m in impact.categories}
    assert moves["hardware"].moved and moves["hardware"].absolute == D(-3)
    assert not moves["labor"].moved and moves["labor"].absolute == D(0)
    # realised in January: 3.00 per 1k x 4,000 requests on and after Jan 15 / 1000 = 12.00
    assert impact.month_requests == 4000 and impact.realised_saving == D(12)
    assert impact.flags == () and impact.verdict == "measured"


def test_difference_in_differences_removes_a_common_trend() -> None:
    panel = panel_30_percent()
    # The control's unit cost rises 10 % after Jan 15: 22.00 on 2000 requests = 11.00 per 1k.
    panel["c"] = series(date(2025, 1, 11), [day(2000, "20.00")] * 4 + [day(2000, "22.00")] * 4)
    action = Action(ACTION_DAY, "m", "quantization")
    impact = estimate(action, panel, [action], before_days=4, after_days=4, min_days=4)
    # (7 / 10) / (11 / 10) - 1 = 0.7 / 1.1 - 1 = -0.363636...
    assert impact.did == pytest.approx(0.7 / 1.1 - 1)
    assert impact.change.relative == D("-0.3")  # the before/after change ignores the control


def test_no_effect_is_inconclusive() -> None:
    # GPU 10.00 every day; requests 1000, 1100, 900, 1000 before and 1000, 900, 1100, 1000 after:
    # 40.00 x 1000 / 4000 = 10.00 per 1k both times, change 0, and the noise makes the interval
    # straddle 0.
    requests = [1000, 1100, 900, 1000, 1000, 900, 1100, 1000]
    panel = {
        "m": series(date(2025, 1, 11), [day(r, "10.00") for r in requests]),
        "c": series(date(2025, 1, 11), [day(2000, "20.00")] * 8),
    }
    action = Action(ACTION_DAY, "m", "autoscaling")
    impact = estimate(action, panel, [action], before_days=4, after_days=4, min_days=4)
    assert impact.change.relative == D(0)
    assert impact.change.low < 0 < impact.change.high
    assert impact.flags == (FLAG_SPANS_ZERO,) and impact.verdict == "inconclusive"


def test_another_action_in_the_window_confounds_and_leaves_the_controls() -> None:
    first = Action(ACTION_DAY, "m", "quantization")
    second = Action(date(2025, 1, 17), "m", "right_sizing")  # inside the after window of the first
    elsewhere = Action(date(2025, 1, 12), "c", "spot")  # touches the only control
    impact = estimate(first, panel_30_percent(), [first, second, elsewhere], before_days=4, after_days=4, min_days=4)
    assert impact.others == (second,)
    assert impact.controls == () and impact.did is None
    assert impact.flags == (FLAG_OTHER_ACTION, FLAG_NO_CONTROLS) and impact.verdict == "confounded"


def test_too_few_days_and_unknown_actions_judged_on_all_cost() -> None:
    action = Action(ACTION_DAY, "m", "prompt_cache")
    impact = estimate(action, panel_30_percent(), [action])  # 14-day windows, 4 days of data each
    assert impact.scope == SCOPE_ALL
    assert FLAG_TOO_FEW_DAYS in impact.flags
    assert impact.change == impact.total


def test_the_bootstrap_is_seeded() -> None:
    before = ([10.0, 11.0, 9.0, 10.5], [1000.0, 1050.0, 980.0, 1010.0])
    after = ([7.0, 7.5, 6.8, 7.2], [990.0, 1000.0, 1020.0, 1005.0])
    first = bootstrap_change(before, after, seed=1)
    assert first == bootstrap_change(before, after, seed=1)
    assert first != bootstrap_change(before, after, seed=2)
    # the point estimate: (28.5 / 4015) / (40.5 / 4040) - 1 = -0.2919...; inside the interval
    point = (28.5 / 4015) / (40.5 / 4040) - 1
    assert point == pytest.approx(-0.2919, abs=1e-4)
    assert first[0] < point < first[1]


def test_did_of_identical_arms_is_zero() -> None:
    arm = (([1.0, 2.0, 3.0], [10.0, 10.0, 10.0]), ([2.0, 2.0, 2.0], [10.0, 20.0, 10.0]))
    # identical treated and control: every draw's ratio of ratios is exactly 1
    assert bootstrap_did(arm, arm) == (0.0, 0.0, 0.0)


def test_inputs_are_not_mutated() -> None:
    panel = panel_30_percent()
    snapshot = {m: dict(days) for m, days in panel.items()}
    estimate(Action(ACTION_DAY, "m", "quantization"), panel, [], before_days=4, after_days=4)
    assert panel == snapshot
