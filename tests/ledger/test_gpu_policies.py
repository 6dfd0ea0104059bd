"""Hand-worked examples of each GPU allocation policy, and conservation per node-hour."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import polars as pl

from pipeline.config import Config
from pipeline.ledger.billing_allocation import billing_parts
from tests.factories import billing_rows as _billing

START = datetime(2026, 1, 5, 10)
TICKS = [START + timedelta(seconds=300 * i) for i in range(12)]


def _config(**pool) -> Config:
    return Config.model_validate(
        {
            "telemetry_step_seconds": 300,
            "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
            "workloads": [{"namespace": "search", "model": "search"}, {"namespace": "recsys", "model": "rec"}],
            "gpu_pools": [{"name": "pool", "node_pattern": "node-.*", "gpus_per_node": 2} | pool],
        }
    )


def _samples(rows: list[dict]) -> pl.DataFrame:
    base = {
        "metric": "DCGM_FI_DEV_GPU_UTIL",
        "hostname": "node-1",
        "gpu": "0",
        "namespace": None,
        "pod": None,
        "container": None,
        "mig_profile": None,
        "mig_instance": None,
        "labels": None,
        "step_seconds": 300,
        "value": Decimal(0),
    }
    return pl.DataFrame(
        [base | r for r in rows],
        schema_overrides={
            "ts": pl.Datetime("us"),
            "step_seconds": pl.Int32,
            "value": pl.Decimal(38, 9),
            "namespace": pl.String,
            "pod": pl.String,
            "container": pl.String,
            "mig_profile": pl.String,
            "mig_instance": pl.String,
            "labels": pl.String,
        },
    )


def _cost(amount: str, config: Config, samples: pl.DataFrame) -> dict[str, Decimal]:
    rows = _billing(
        [
            {
                "BilledCost": amount,
                "EffectiveCost": amount,
                "ResourceName": "node-1",
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            }
        ]
    )
    parts = billing_parts(rows, samples, config, ())
    got: dict[str, Decimal] = {}
    for r in parts.iter_rows(named=True):
        key = r["model_id"] if r["unallocated_reason"] is None else f"{r['model_id']}:{r['unallocated_reason']}"
        got[key] = got.get(key, Decimal(0)) + r["source_effective_amount"]
    assert sum(got.values()) == Decimal(amount)
    return got


def _mig_and_time_sliced() -> pl.DataFrame:
    rows = []
    for t in TICKS:
        # GPU 0 in MIG slices: 3g (search), 2g (rec), 1g idle; one seventh not configured
        rows += [
            {"ts": t, "gpu": "0", "mig_profile": "3g.40gb", "mig_instance": "1", "namespace": "search", "pod": "s-0"},
            {"ts": t, "gpu": "0", "mig_profile": "2g.20gb", "mig_instance": "2", "namespace": "recsys", "pod": "r-0"},
            {"ts": t, "gpu": "0", "mig_profile": "1g.10gb", "mig_instance": "3"},
        ]
        # GPU 1 time-sliced by two pods
        rows += [
            {"ts": t, "gpu": "1", "namespace": "search", "pod": "s-1"},
            {"ts": t, "gpu": "1", "namespace": "recsys", "pod": "r-1"},
        ]
    return _samples(rows)


def test_mig_slices_by_profile_and_time_slicing_shared_equally():
    # 7.00 for one hour of 2 GPUs: 3.50 a GPU.
    # GPU 0: search 3/7 x 3.50 = 1.50; rec 2/7 = 1.00; idle 1g slice + unconfigured seventh 2/7 = 1.00
    # GPU 1: two pods, no replica count declared: 1/2 each = 1.75 + 1.75
    got = _cost("7.00", _config(), _mig_and_time_sliced())
    assert got == {"search": Decimal("3.25"), "rec": Decimal("2.75"), "__idle__": Decimal("1.00")}


def test_time_slicing_with_declared_replicas_leaves_unused_replicas_idle():
    # replicas = 4: each pod on GPU 1 holds 1/4 = 0.875, the two unused replicas 1.75 are idle.
    # search 1.50 + 0.875 = 2.375; rec 1.00 + 0.875 = 1.875; idle 1.00 + 1.75 = 2.75
    got = _cost("7.00", _config(time_slicing_replicas=4), _mig_and_time_sliced())
    assert got == {"search": Decimal("2.375"), "rec": Decimal("1.875"), "__idle__": Decimal("2.75")}


def _utilised() -> pl.DataFrame:
    rows = []
    for i, t in enumerate(TICKS):
        if i < 6:
            rows.append({"ts": t, "namespace": "search", "pod": "s-0", "value": Decimal(50)})
        else:  # GR_ENGINE_ACTIVE (0.75) wins over GPU_UTIL (25)
            rows.append({"ts": t, "namespace": "recsys", "pod": "r-0", "value": Decimal(25)})
            rows.append(
                {
                    "ts": t,
                    "namespace": "recsys",
                    "pod": "r-0",
                    "value": Decimal("0.75"),
                    "metric": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                }
            )
    return _samples(rows)


def test_utilisation_weighted_with_idle_kept():
    # 1 GPU, 3.60 an hour (0.001 a GPU-second). search 1800 s at 50% = 900 s -> 0.90;
    # rec 1800 s at 75% -> 1.35; unused 900 + 450 = 1350 s -> __idle__ 1.35
    got = _cost("3.60", _config(gpus_per_node=1, policy="utilisation"), _utilised())
    assert got == {"search": Decimal("0.90"), "rec": Decimal("1.35"), "__idle__": Decimal("1.35")}


def test_utilisation_weighted_with_idle_redistributed():
    # the 1.35 idle goes to search and rec by their weights 900 : 1350 = 2 : 3 -> 0.54 and 0.81:
    # search 0.90 + 0.54 = 1.44; rec 1.35 + 0.81 = 2.16
    got = _cost("3.60", _config(gpus_per_node=1, policy="utilisation", idle="redistribute"), _utilised())
    assert got == {"search": Decimal("1.44"), "rec": Decimal("2.16")}


def test_a_silence_longer_than_the_gap_multiple_is_a_telemetry_gap():
    # step 300 s, telemetry_gap_steps 2 (600 s). Samples: 10:00, 10:05, 10:15 (search), 10:40 (idle).
    # 10:00 holds 300 s; 10:05 holds until 10:15 (600 s, within 2 steps); 10:15 -> next is 25 min
    # away: it holds one step (300 s), 10:20-10:40 is a gap (1200 s); 10:40 holds 300 s and
    # 10:45-11:00 is a gap (900 s). search 1200 s -> 1.20; idle 300 s -> 0.30; gap 2100 s -> 2.10
    samples = _samples(
        [{"ts": START + timedelta(minutes=m), "namespace": "search", "pod": "s-0"} for m in (0, 5, 15)]
        + [{"ts": START + timedelta(minutes=40)}]
    )
    got = _cost("3.60", _config(gpus_per_node=1), samples)
    assert got == {
        "search": Decimal("1.20"),
        "__idle__": Decimal("0.30"),
        "__unallocated__:telemetry_gap": Decimal("2.10"),
    }


def test_allocated_plus_idle_plus_gap_is_the_node_hour_cost_exactly_for_random_telemetry():
    # random holders, utilisation, silences and awkward amounts: every node-hour adds up to its cost
    for seed in range(8):
        rng = random.Random(seed)
        rows = []
        for gpu in ("0", "1"):
            t = START - timedelta(seconds=rng.randrange(0, 300))
            while t < START + timedelta(hours=1):
                holder = rng.choice([None, ("search", "s"), ("recsys", "r"), ("sandbox", "x")])
                rows.append(
                    {
                        "ts": t,
                        "gpu": gpu,
                        "value": Decimal(rng.randrange(0, 101)),
                        "namespace": holder and holder[0],
                        "pod": holder and f"{holder[1]}-{gpu}",
                    }
                )
                t += timedelta(seconds=rng.choice([7, 60, 300, 300, 900, 1900]))
        amount = f"{rng.randrange(1, 10**6)}.{rng.randrange(10**10):010d}"
        for policy in ("gpu_time", "utilisation"):
            for idle in ("keep", "redistribute"):
                _cost(amount, _config(policy=policy, idle=idle), _samples(rows))  # asserts the sum


def test_redistribute_keeps_idle_when_no_model_held_the_node():
    # idle = redistribute, but nobody held the one GPU all hour (12 samples with no pod): there is
    # no model to give the idle time to, so the whole 3.60 stays __idle__
    samples = _samples([{"ts": t} for t in TICKS])
    got = _cost("3.60", _config(gpus_per_node=1, idle="redistribute"), samples)
    assert got == {"__idle__": Decimal("3.60")}
