"""gpu_weights (an in-memory DuckDB pass) against a plain-Python reference of the same rules, on
random telemetry with MIG slices, time-sliced pods, idle rows, silences and intervals that cross
hour boundaries: the GPU time held per host, hour and model must be equal, exactly."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import polars as pl

from pipeline.config import Config
from pipeline.ledger.gpu import gpu_weights

START = datetime(2026, 1, 5, 10)
CONFIG = Config.model_validate(
    {
        "telemetry_step_seconds": 300,
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        "workloads": [{"namespace": "search", "model": "search"}, {"namespace": "recsys", "model": "rec"}],
        "gpu_pools": [{"name": "pool", "node_pattern": "node-.*", "gpus_per_node": 2, "time_slicing_replicas": 3}],
    }
)
HOUR_US = 3_600_000_000


def _random_samples(seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for host in ("node-1", "node-2"):
        for gpu in ("0", "1"):
            t = START - timedelta(seconds=rng.randrange(0, 4000), microseconds=rng.choice([0, 0, 1234]))
            while t < START + timedelta(hours=3):
                kind = rng.choice(["one", "idle", "sliced", "mig"])
                if kind == "one":
                    holders = [rng.choice([("search", "s-1"), ("recsys", "r-1"), ("sandbox", "x-1")])]
                elif kind == "idle":
                    holders = [(None, None)]
                elif kind == "sliced":
                    holders = [("search", "s-a"), ("recsys", "r-b")][: rng.choice([1, 2])] + (
                        [(None, None)] if rng.random() < 0.3 else []
                    )
                else:
                    holders = [
                        ("3g.40gb", "1", "search", "s-m"),
                        ("2g.20gb", "2", "recsys", "r-m"),
                        ("1g.10gb", "3", None, None),
                    ][: rng.choice([1, 2, 3])]
                    if rng.random() < 0.3:
                        holders.append(("3g.40gb", "1", "recsys", "r-m2"))
                step = rng.choice([60, 300, 300, 3600])
                for h in holders:
                    mig = h[:2] if len(h) == 4 else (None, None)
                    ns, pod = h[-2:]
                    for metric in rng.sample(["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE"], rng.choice([1, 2])):
                        rows.append(
                            {
                                "hostname": host,
                                "gpu": gpu,
                                "ts": t,
                                "metric": metric,
                                "value": Decimal(1),
                                "step_seconds": step,
                                "mig_profile": mig[0],
                                "mig_instance": mig[1],
                                "namespace": ns,
                                "pod": pod,
                                "container": None,
                                "labels": None,
                            }
                        )
                t += timedelta(
                    seconds=rng.choice([7, 60, 300, 300, 900, 1900, 3700]), microseconds=rng.choice([0, 0, 500])
                )
    return rows


def _model(ns: str | None, pod: str | None) -> str:
    if pod is None:
        return "__idle__"
    return {"search": "search", "recsys": "rec"}.get(ns, "__unallocated__")


def _reference(rows: list[dict], *, gap_steps: int, mig_slices: int, replicas: int) -> dict[tuple, Fraction]:
    """GPU-milliseconds held per (host, hour, model), by the rules in pipeline/ledger/gpu.py."""
    instants: dict[tuple, dict] = defaultdict(lambda: {"step": 0, "holders": set()})
    for r in rows:
        key = (r["hostname"], r["gpu"], r["ts"])
        instants[key]["step"] = max(instants[key]["step"], r["step_seconds"])
        instants[key]["holders"].add((r["mig_profile"], r["mig_instance"], r["namespace"], r["pod"]))
    timelines: dict[tuple, list] = defaultdict(list)
    for (host, gpu, ts), v in instants.items():
        timelines[(host, gpu)].append((ts, v))
    out: dict[tuple, Fraction] = defaultdict(Fraction)
    us = lambda t: int((t - datetime(1970, 1, 1)) / timedelta(microseconds=1))  # noqa: E731
    for (host, _), line in timelines.items():
        line.sort(key=lambda x: x[0])
        for i, (ts, v) in enumerate(line):
            step_ms = v["step"] * 1000
            to_next = (us(line[i + 1][0]) - us(ts)) // 1000 if i + 1 < len(line) else None
            ms = to_next if to_next is not None and to_next <= step_ms * gap_steps else step_ms
            held = defaultdict(int)  # pods per MIG instance (None: the whole GPU)
            for _mig_profile, mig_instance, _, pod in v["holders"]:
                held[mig_instance] += pod is not None
            parts = []
            for mig_profile, mig_instance, ns, pod in v["holders"]:
                n = held[mig_instance]
                if pod is None and n > 0:
                    continue  # idle beside holders of the same GPU or slice
                is_mig = mig_profile is not None or mig_instance is not None
                num = (
                    int(re.match(r"^(\d+)g", mig_profile).group(1))
                    if is_mig and mig_profile and re.match(r"^(\d+)g", mig_profile)
                    else 1
                )
                share = 1 if pod is None else n if is_mig else max(n, replicas)
                parts.append((_model(ns, pod), Fraction(num, (mig_slices if is_mig else 1) * share)))
            spare = 1 - sum(f for _, f in parts)
            if spare > 0:
                parts.append(("__idle__", spare))
            start, end = us(ts), us(ts) + ms * 1000
            bucket = start // HOUR_US * HOUR_US
            while bucket < end or bucket == start // HOUR_US * HOUR_US:
                piece = (min(end, bucket + HOUR_US) - max(start, bucket)) // 1000
                for model, fraction in parts:
                    out[(host, bucket, model)] += fraction * piece
                bucket += HOUR_US
                if bucket >= end:
                    break
    return {k: v for k, v in out.items() if v}


def test_gpu_time_held_equals_the_plain_python_reference_for_random_telemetry():
    schema = {
        "ts": pl.Datetime("us"),
        "step_seconds": pl.Int32,
        "value": pl.Decimal(38, 9),
        **{c: pl.String for c in ("mig_profile", "mig_instance", "namespace", "pod", "container", "labels")},
    }
    pool = CONFIG.gpu_pools[0]
    for seed in range(6):
        rows = _random_samples(seed)
        weights = gpu_weights(pl.DataFrame(rows, schema_overrides=schema), CONFIG, pool, every="1h")
        got = defaultdict(Fraction)
        for r in weights.frame.iter_rows(named=True):
            bucket = int((r["bucket"] - datetime(1970, 1, 1)) / timedelta(microseconds=1))
            got[(r["hostname"], bucket, r["model_id"])] += Fraction(r["gpu_units"], weights.slices)
        expected = _reference(
            rows, gap_steps=CONFIG.telemetry_gap_steps, mig_slices=pool.mig_slices, replicas=pool.time_slicing_replicas
        )
        assert {k: v for k, v in got.items() if v} == expected, seed
