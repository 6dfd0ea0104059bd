"""Owned servers: energy from DCGM's energy counter (with a reset) or power x time, and
depreciation over partial first and last months and up to a disposal."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl

from pipeline.config import Config
from pipeline.ledger.owned import depreciation_quanta, energy_parts, maintenance_quanta

Q = Decimal(1).scaleb(-18)
T0 = datetime(2026, 1, 5, 10)
CONFIG = Config.model_validate(
    {
        "telemetry_step_seconds": 300,
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        "workloads": [{"namespace": "search", "model": "search"}, {"namespace": "recsys", "model": "rec"}],
        "owned": {"pue": "1.5", "tariff_per_kwh": "0.12"},
    }
)


def _samples(rows: list[tuple]) -> pl.DataFrame:
    """(minute, gpu, metric, value, namespace) rows of host dc-1, 300 s step."""
    return pl.DataFrame(
        [
            {
                "hostname": "dc-1",
                "gpu": gpu,
                "ts": T0 + timedelta(minutes=m),
                "metric": metric,
                "value": Decimal(value),
                "step_seconds": 300,
                "namespace": ns,
                "pod": ns and f"{ns}-{gpu}",
                "container": None,
                "labels": None,
                "mig_profile": None,
                "mig_instance": None,
            }
            for m, gpu, metric, value, ns in rows
        ],
        schema_overrides={
            "value": pl.Decimal(38, 9),
            "step_seconds": pl.Int32,
            "namespace": pl.String,
            "pod": pl.String,
            "container": pl.String,
            "labels": pl.String,
            "mig_profile": pl.String,
            "mig_instance": pl.String,
        },
    )


def test_energy_counter_with_a_reset_and_power_where_there_is_no_counter():
    counter, power = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_POWER_USAGE"
    kwh = 3_600_000_000  # millijoules in a kWh
    samples = _samples(
        [
            # GPU 0 has the counter (mJ): its power samples are ignored
            (0, "0", counter, 10 * kwh // 1, "search"),
            (0, "0", power, "999", "search"),
            (5, "0", counter, 11 * kwh, "recsys"),  # 10:00-10:05 search: +1 kWh
            (10, "0", counter, kwh // 2, "search"),  # 10:05-10:10 rec: a reset -> count the new value, 0.5 kWh
            (15, "0", counter, 3 * kwh // 2, None),  # 10:10-10:15 search: +1 kWh
            (20, "0", counter, 5 * kwh // 2, None),  # 10:15-10:20 idle: +1 kWh; the last reading starts nothing
            # GPU 1 has no counter: 1200 W x 300 s = 360,000 J = 0.1 kWh (rec)
            (0, "1", power, "1200", "recsys"),
        ]
    )
    parts = energy_parts(pl.DataFrame({"hostname": ["dc-1"]}), samples, CONFIG, "2026-01")
    got = {r["model_id"]: (r["source_amount"], r["quantity"]) for r in parts.iter_rows(named=True)}
    # 3.6 kWh x PUE 1.5 x 0.12 = 0.648 for the host-day: search 2 kWh -> 0.36; rec 0.5 + 0.1 kWh -> 0.108;
    # idle 1 kWh -> 0.18
    assert {m: a for m, (a, _) in got.items()} == {
        "search": Decimal("0.36"),
        "rec": Decimal("0.108"),
        "__idle__": Decimal("0.18"),
    }
    assert {m: q for m, (_, q) in got.items()} == {"search": Decimal(2), "rec": Decimal("0.6"), "__idle__": Decimal(1)}


def test_energy_over_a_counter_silence_longer_than_the_gap_is_unallocated():
    counter = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
    kwh = 3_600_000_000
    # 10:00 -> 10:05 search +1 kWh; 10:05 -> 10:30 (25 min > 2 x 300 s) +2 kWh: nobody seen holding it
    samples = _samples(
        [(0, "0", counter, 0, "search"), (5, "0", counter, kwh, "search"), (30, "0", counter, 3 * kwh, "search")]
    )
    parts = energy_parts(pl.DataFrame({"hostname": ["dc-1"]}), samples, CONFIG, "2026-01")
    got = {(r["model_id"], r["unallocated_reason"]): r["source_amount"] for r in parts.iter_rows(named=True)}
    # 3 kWh x 0.18 = 0.54: search 0.18, the gap 0.36
    assert got == {("search", None): Decimal("0.18"), ("__unallocated__", "telemetry_gap"): Decimal("0.36")}


def test_depreciation_over_partial_first_and_last_months_and_a_disposal():
    # 3,100.00 over a 1-month life from 2026-01-20: 31 days to 2026-02-20 (exclusive), 100.00 a day;
    # January has 12 of them (1,200.00), February 19 (1,900.00): the life adds up to 3,100.00
    asset = {
        "in_service_date": date(2026, 1, 20),
        "useful_life_months": 1,
        "price": Decimal("3100.00"),
        "salvage_value": Decimal("0"),
        "maintenance_per_month": Decimal("31.00"),
    }
    january = sum(depreciation_quanta(asset, date(2026, 1, d)) for d in range(1, 32)) * Q
    february = sum(depreciation_quanta(asset, date(2026, 2, d)) for d in range(1, 29)) * Q
    assert (january, february) == (Decimal("1200.00"), Decimal("1900.00"))
    # maintenance 31.00 a month = 1.00 a day of January from the 20th: 12.00
    assert sum(maintenance_quanta(asset, date(2026, 1, d)) for d in range(1, 32)) * Q == Decimal("12.00")
    # disposed of on 2026-02-01: that day writes off the remaining 1,900.00; nothing after it,
    # neither depreciation nor maintenance
    sold = asset | {"disposal_date": date(2026, 2, 1)}
    assert depreciation_quanta(sold, date(2026, 2, 1)) * Q == Decimal("1900.00")
    assert depreciation_quanta(sold, date(2026, 2, 2)) == maintenance_quanta(sold, date(2026, 2, 2)) == 0
    assert sum(depreciation_quanta(sold, date(2026, 1, d)) for d in range(1, 32)) * Q + Decimal("1900.00") == Decimal(
        "3100.00"
    )
