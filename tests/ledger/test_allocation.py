"""Hand-worked examples of each allocation rule."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl

from pipeline.config import Config
from pipeline.ledger.billing_allocation import billing_parts
from pipeline.ledger.owned import add_months, depreciation_quanta
from pipeline.ledger.people import delay_parts
from pipeline.money import MONEY
from tests.factories import billing_rows as _billing
from tests.factories import gpu_samples as _samples

Q = Decimal("1E-18")
CONFIG = Config.model_validate(
    {
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        "workloads": [{"namespace": "search", "model": "search"}, {"namespace": "recsys", "model": "rec"}],
        "gpu_pools": [{"name": "pool", "node_pattern": "node-.*", "gpus_per_node": 4}],
        "shared_pools": [{"name": "support", "service_name": "Support", "policy": "proportional"}],
    }
)


def test_gpu_node_hour_split_by_gpu_time_with_idle_gap_and_unmapped():
    # node-1 costs 4.80 for 10:00-11:00; capacity 4 GPUs x 3600 s = 14400 s.
    # GPU0: search all hour (12 samples, 3600 s)          -> 4.80 x 3600/14400 = 1.20
    # GPU1: no pod all hour (3600 s)                      -> __idle__ 1.20
    # GPU2: unmapped namespace for 6 samples (1800 s)     -> __unallocated__ unmapped_workload 0.60
    # GPU3: no samples; GPU2 silent for 1800 s: 5400 s    -> __unallocated__ telemetry_gap 1.80
    start = datetime(2026, 1, 5, 10)
    ticks = [start + timedelta(seconds=300 * i) for i in range(12)]
    samples = _samples(
        [("node-1", "0", t, "search", "s-0") for t in ticks]
        + [("node-1", "1", t, None, None) for t in ticks]
        + [("node-1", "2", t, "sandbox", "nb-0") for t in ticks[:6]]
    )
    rows = _billing(
        [
            {
                "BilledCost": "4.80",
                "EffectiveCost": "4.80",
                "ResourceName": "node-1",
                "ChargePeriodStart": start,
                "ChargePeriodEnd": start + timedelta(hours=1),
            }
        ]
    )
    parts = billing_parts(rows, samples, CONFIG, ())
    got = {(r["model_id"], r["unallocated_reason"]): r["source_effective_amount"] for r in parts.iter_rows(named=True)}
    assert got == {
        ("search", None): Decimal("1.20"),
        ("__idle__", None): Decimal("1.20"),
        ("__unallocated__", "unmapped_workload:sandbox"): Decimal("0.60"),
        ("__unallocated__", "telemetry_gap"): Decimal("1.80"),
    }
    assert sum(got.values()) == Decimal("4.80")
    assert set(parts["quantity_unit"]) == {"GPU-hours"}


def _direct_and_support() -> pl.DataFrame:
    """search 30.00 and rec 10.00 on Jan 1, 10.00 each on Jan 2; support 8.00 for Jan 1-2."""
    day = datetime(2026, 1, 1)

    def row(cost: str, extra: dict, start: datetime, days: int = 1) -> dict:
        return {
            "BilledCost": cost,
            "EffectiveCost": cost,
            **extra,
            "ChargePeriodStart": start,
            "ChargePeriodEnd": start + timedelta(days=days),
        }

    return _billing(
        [
            row("30.00", {"Tags": '{"model": "search"}'}, day),
            row("10.00", {"Tags": '{" MODEL ": "rec"}'}, day),
            row("10.00", {"Tags": '{"model": "search"}'}, day + timedelta(days=1)),
            row("10.00", {"Tags": '{"model": "rec"}'}, day + timedelta(days=1)),
            row("8.00", {"ServiceName": "Support"}, day, days=2),
        ]
    )


def test_shared_pool_spread_over_days_then_proportional_to_each_days_direct_cost():
    # support 8.00 over Jan 1-2 by seconds: 4.00 a day.
    # Jan 1: direct search 30.00, rec 10.00 -> weights 3000 : 1000 cents -> search 3.00, rec 1.00.
    # Jan 2: direct 10.00 each -> 1000 : 1000 -> search 2.00, rec 2.00.
    parts = billing_parts(_direct_and_support(), _samples([]), CONFIG, ())
    shared = parts.filter(pl.col("allocation_method") == "shared_pool").sort("model_id", "charge_date")
    assert shared.select("model_id", "charge_date", "source_amount", "allocation_share").rows() == [
        ("rec", date(2026, 1, 1), Decimal("1.00"), Decimal("0.25")),
        ("rec", date(2026, 1, 2), Decimal("2.00"), Decimal("0.5")),
        ("search", date(2026, 1, 1), Decimal("3.00"), Decimal("0.75")),
        ("search", date(2026, 1, 2), Decimal("2.00"), Decimal("0.5")),
    ]
    assert parts["source_amount"].sum() == Decimal("68.00")  # 30 + 10 + 10 + 10 + 8: nothing lost


def test_shared_pool_weighed_by_the_month_splits_the_row_then_spreads_it():
    # window = "month": weights of the whole period, search 40.00 : rec 20.00 -> 4000 : 2000 = 2 : 1.
    # 8.00 = 8 x 10^18 quanta: search floor(16/3 x 10^18) = 5333333333333333333 (remainder 1/3),
    # rec 2666666666666666666 (remainder 2/3): the quantum left goes to rec, 2666666666666666667.
    # Each over Jan 1-2 by seconds, the odd quantum to the earlier day: search 2666666666666666667
    # + 2666666666666666666; rec 1333333333333333334 + 1333333333333333333.
    pool = {"name": "support", "service_name": "Support", "policy": "proportional", "window": "month"}
    config = Config.model_validate({**CONFIG.model_dump(), "shared_pools": [pool]})
    parts = billing_parts(_direct_and_support(), _samples([]), config, ())
    shared = parts.filter(pl.col("allocation_method") == "shared_pool").sort("model_id", "charge_date")
    assert shared.select("model_id", "charge_date", "source_amount").rows() == [
        ("rec", date(2026, 1, 1), Decimal("1.333333333333333334")),
        ("rec", date(2026, 1, 2), Decimal("1.333333333333333333")),
        ("search", date(2026, 1, 1), Decimal("2.666666666666666667")),
        ("search", date(2026, 1, 2), Decimal("2.666666666666666666")),
    ]
    assert parts["source_amount"].sum() == Decimal("68.00")


def test_untagged_and_unregistered_cost_is_unallocated_with_reason():
    day = datetime(2026, 1, 1)
    rows = _billing(
        [
            {
                "BilledCost": "1.00",
                "EffectiveCost": "1.00",
                "ChargePeriodStart": day,
                "ChargePeriodEnd": day + timedelta(hours=1),
            },
            {
                "BilledCost": "2.00",
                "EffectiveCost": "2.00",
                "Tags": '{"model": "ghost"}',
                "ChargePeriodStart": day,
                "ChargePeriodEnd": day + timedelta(hours=1),
            },
        ]
    )
    parts = billing_parts(rows, _samples([]), CONFIG, ())
    assert sorted(parts.select("model_id", "unallocated_reason", "source_amount").rows()) == [
        ("__unallocated__", "no_matching_rule", Decimal("1.00")),
        ("__unallocated__", "unregistered_model:ghost", Decimal("2.00")),
    ]


def test_depreciation_over_the_whole_life_is_price_minus_salvage():
    # 100,000.00 - 10,000.01 = 89,999.99 over 36 months from 2024-03-15 to 2027-03-15: 1095 days
    # (no Feb 29 in between). 89,999.99 / 1095 does not divide evenly, so days differ by at most one
    # quantum, and the life must add up to exactly 89,999.99.
    asset = {
        "in_service_date": date(2024, 3, 15),
        "useful_life_months": 36,
        "price": Decimal("100000.00"),
        "salvage_value": Decimal("10000.01"),
        "disposal_date": None,
    }
    end = add_months(asset["in_service_date"], 36)
    days = [asset["in_service_date"] + timedelta(days=i) for i in range((end - asset["in_service_date"]).days)]
    quanta = [depreciation_quanta(asset, d) for d in days]
    assert len(days) == 1095
    assert sum(quanta) * Q == Decimal("89999.99")
    assert max(quanta) - min(quanta) <= 1
    assert depreciation_quanta(asset, end) == 0 and depreciation_quanta(asset, days[0] - timedelta(days=1)) == 0


def test_disposal_writes_off_the_remaining_book_value():
    # 1,000.00 over a 1-month life from 2026-01-01 (31 days, 32.258... a day); disposed of on
    # 2026-01-11: that day takes what is left of the 1,000.00 and nothing accrues after it.
    asset = {
        "in_service_date": date(2026, 1, 1),
        "useful_life_months": 1,
        "price": Decimal("1000.00"),
        "salvage_value": Decimal("0"),
        "disposal_date": date(2026, 1, 11),
    }
    total = sum(depreciation_quanta(asset, date(2026, 1, d)) for d in range(1, 32))
    assert total * Q == Decimal("1000.00")
    assert depreciation_quanta(asset, date(2026, 1, 12)) == 0


def test_open_milestone_accrues_up_to_the_as_of_day():
    # planned 2026-01-28, not delivered, as of 2026-01-31: late on Jan 29, 30, 31 -> 3 x 500.00
    milestones = pl.DataFrame(
        {
            "load_id": ["m"],
            "row_number": [1],
            "model_id": ["rec"],
            "milestone": ["launch"],
            "planned_date": [date(2026, 1, 28)],
            "actual_date": [None],
            "cost_of_delay_per_day": [Decimal("500.00")],
            "currency": ["USD"],
        },
        schema_overrides={"actual_date": pl.Date, "cost_of_delay_per_day": MONEY},
    )
    parts = delay_parts(milestones, CONFIG, "2026-01", as_of=date(2026, 1, 31))
    assert parts["charge_date"].to_list() == [date(2026, 1, 29), date(2026, 1, 30), date(2026, 1, 31)]
    # opportunity cost: nothing billed, the 1500.00 rides as the effective amount (economic_cost)
    assert parts["source_amount"].sum() == Decimal("0")
    assert parts["source_effective_amount"].sum() == Decimal("1500.00")


def test_a_cancelled_milestone_stops_accruing_from_its_cancellation_day():
    # planned 2026-01-20, never delivered, cancelled on 2026-01-25, as of 2026-01-31: late on
    # Jan 21, 22, 23, 24 (the cancellation day and after: no longer planned) -> 4 x 500.00 = 2000.00,
    # not the 11 days (Jan 21..31, 5500.00) an open milestone would accrue
    milestones = pl.DataFrame(
        {
            "load_id": ["m"],
            "row_number": [1],
            "model_id": ["rec"],
            "milestone": ["launch"],
            "planned_date": [date(2026, 1, 20)],
            "actual_date": [None],
            "cost_of_delay_per_day": [Decimal("500.00")],
            "currency": ["USD"],
            "cancelled_date": [date(2026, 1, 25)],
        },
        schema_overrides={"actual_date": pl.Date, "cost_of_delay_per_day": MONEY},
    )
    parts = delay_parts(milestones, CONFIG, "2026-01", as_of=date(2026, 1, 31))
    assert parts["charge_date"].to_list() == [date(2026, 1, d) for d in (21, 22, 23, 24)]
    assert parts["source_effective_amount"].sum() == Decimal("2000.00")
    # cancelled before it was late (on the planned day itself): nothing accrues
    on_time = milestones.with_columns(pl.lit(date(2026, 1, 20)).alias("cancelled_date"))
    assert delay_parts(on_time, CONFIG, "2026-01", as_of=date(2026, 1, 31)).is_empty()
