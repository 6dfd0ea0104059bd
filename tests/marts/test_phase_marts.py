"""Cost basis and phase in the marts, on a hand-made ledger: unit costs of serving read the
inference phase only, and the cost of delay is economic cost, never billed or effective cost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.marts.conftest import add_cost, add_requests

DAY = date(2026, 1, 5)


def _serving_model(con) -> None:
    # rec on 2026-01-05: 30.00 of GPU serving (10 GPU-hours), 12.00 of GPU fine-tuning (4 GPU-hours),
    # 8.00 of labor (inference by default), 500.00 cost of delay (opportunity); 2,000 requests
    add_cost(con, DAY, "rec", "hardware", "30.00", quantity="10", unit="GPU-hours", source="assets")
    add_cost(con, DAY, "rec", "hardware", "12.00", quantity="4", unit="GPU-hours", source="assets", phase="fine_tuning")
    add_cost(con, DAY, "rec", "labor", "8.00", source="labor")
    add_cost(con, DAY, "rec", "time", "500.00", subcategory="delay", source="milestones", phase="shared")
    add_requests(con, DAY, "rec", 2000)


def test_daily_unit_costs_are_the_cost_of_serving(con) -> None:
    _serving_model(con)
    row = con.execute(
        "select effective_cost, gpu_hours, cost_per_1k_requests, cost_per_gpu_hour from marts.unit_costs where "
        "model_id = 'rec'"
    ).fetchone()
    # inference: 30.00 + 8.00 = 38.00 over 10 GPU-hours (not 50.00 over 14 with the fine-tuning,
    # nor 550.00 with the delay): 38.00 x 1000 / 2000 = 19.00 per 1k requests, 38.00 / 10 = 3.80
    assert row[0] == Decimal("38.00") and row[1] == Decimal("10")
    assert float(row[2]) == pytest.approx(19.0) and float(row[3]) == pytest.approx(3.8)


def test_monthly_unit_costs_are_the_cost_of_serving(con) -> None:
    _serving_model(con)
    row = con.execute(
        "select effective_cost, infrastructure_cost, gpu_hours, cost_per_1k_requests "
        "from marts.monthly_unit_costs where model_id = 'rec' and month = '2026-01'"
    ).fetchone()
    # fully loaded 38.00, infrastructure 30.00 (hardware of the inference phase), 10 GPU-hours;
    # 38.00 x 1000 / 2000 = 19.00 per 1k requests
    assert row[:3] == (Decimal("38.00"), Decimal("30.00"), Decimal("10"))
    assert float(row[3]) == pytest.approx(19.0)


def test_the_cost_of_delay_is_economic_cost_only(con) -> None:
    _serving_model(con)
    cells = {
        c: (b, e, x)
        for c, b, e, x in con.execute(
            "select category, billed_cost, effective_cost, economic_cost from marts.monthly_model_cost where model_id "
            "= 'rec'"
        ).fetchall()
    }
    # hardware 30.00 + 12.00 = 42.00 of cash, all three alike; time: nothing billed or amortised,
    # 500.00 of economic cost. Economic total 42 + 8 + 500 = 550.00 against a cash total of 50.00
    assert cells["hardware"] == (Decimal("42.00"), Decimal("42.00"), Decimal("42.00"))
    assert cells["time"] == (Decimal("0"), Decimal("0"), Decimal("500.00"))
    assert con.execute("select sum(effective_cost), sum(economic_cost) from marts.daily_model_cost").fetchone() == (
        Decimal("50.00"),
        Decimal("550.00"),
    )
