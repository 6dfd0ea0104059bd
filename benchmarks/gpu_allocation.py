"""Benchmark (not a test): a month of GPU allocation from long Parquet telemetry.

1,000 GPUs (125 hosts x 8) x 30 days at a 60 s step = 43.2 million samples per metric, two metrics
(DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_POWER_USAGE): 86.4 million rows. The data is generated into a
temporary folder (never committed), or reused from --data; the allocation
(pipeline.ledger.gpu.gpu_weights: intervals, holders, the policy, hour buckets, workload -> model)
runs in a child process over the Parquet files, a batch of hosts at a time, and prints samples per
second, wall time and the child's peak memory (max RSS).

    python benchmarks/gpu_allocation.py [--gpus 1000] [--days 30] [--policy gpu_time|utilisation] [--hosts-per-batch 5] [--data DIR]
"""  # noqa: E501 (the usage line above is one command, as typed)

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STEP = 60
START = datetime(2026, 1, 1)


def generate(folder: Path, gpus: int, days: int) -> None:
    """One Parquet file per host, rows sorted by GPU and time; holders change every 6 hours."""
    per_day = 86_400 // STEP
    n = per_day * days
    for host in range(gpus // 8):
        frames = []
        for gpu in range(8):
            slot = pl.int_range(0, n, eager=True)
            ts = pl.datetime_range(START, START + pl.duration(seconds=(n - 1) * STEP), f"{STEP}s", eager=True)
            block = (slot // 360 + gpu + host) % 4  # 0 idle, 1 search, 2 rec, 3 an unmapped sandbox
            frame = (
                pl.DataFrame({"ts": ts, "gpu": str(gpu), "block": block})
                .with_columns(
                    pl.lit(f"node-{host:04d}").alias("hostname"),
                    pl.when(pl.col("block") == 1)
                    .then(pl.lit("search"))
                    .when(pl.col("block") == 2)
                    .then(pl.lit("recsys"))
                    .when(pl.col("block") == 3)
                    .then(pl.lit("sandbox"))
                    .otherwise(None)
                    .alias("namespace"),
                )
                .with_columns(
                    pl.when(pl.col("namespace").is_not_null()).then(pl.col("namespace") + f"-{gpu}").alias("pod")
                )
            )
            util = frame.with_columns(
                pl.lit("DCGM_FI_DEV_GPU_UTIL").alias("metric"), ((slot * 7 + gpu) % 101).cast(pl.Float64).alias("value")
            )
            power = frame.with_columns(
                pl.lit("DCGM_FI_DEV_POWER_USAGE").alias("metric"),
                (60 + (slot * 13) % 300).cast(pl.Float64).alias("value"),
            )
            frames += [util, power]
        pl.concat(frames).drop("block").write_parquet(folder / f"node-{host:04d}.parquet", row_group_size=1_000_000)


def allocate(folder: Path, policy: str, hosts_per_batch: int) -> None:
    from pipeline.config import Config
    from pipeline.ledger.gpu import gpu_weights

    config = Config.model_validate(
        {
            "telemetry_step_seconds": STEP,
            "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
            "workloads": [{"namespace": "search", "model": "search"}, {"namespace": "recsys", "model": "rec"}],
            "gpu_pools": [{"name": "pool", "node_pattern": "node-.*", "gpus_per_node": 8, "policy": policy}],
        }
    )
    files = sorted(folder.glob("*.parquet"))
    rows = pl.scan_parquet(files).select(pl.len()).collect().item()
    results = []
    began = time.perf_counter()
    for i in range(0, len(files), hosts_per_batch):  # the files have no step_seconds: the configured step
        results.append(gpu_weights(files[i : i + hosts_per_batch], config, config.gpu_pools[0], every="1h").frame)
    elapsed = time.perf_counter() - began
    out = pl.concat(results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB -> GiB
    print(
        f"policy {policy}: {rows:,} samples allocated in {elapsed:.1f} s = {rows / elapsed:,.0f} samples/s; "
        f"peak memory {peak:.2f} GiB; {out.height:,} host-hour-model weights"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpus", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--policy", default="gpu_time")
    parser.add_argument("--hosts-per-batch", type=int, default=5)
    parser.add_argument("--data", default=None, help="a folder to keep the generated files in (generated once)")
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        allocate(Path(args.child), args.policy, args.hosts_per_batch)
        return
    if args.data:
        folder = Path(args.data)
        folder.mkdir(parents=True, exist_ok=True)
        if len(list(folder.glob("*.parquet"))) != args.gpus // 8:
            generate(folder, args.gpus, args.days)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(folder),
                "--policy",
                args.policy,
                "--hosts-per-batch",
                str(args.hosts_per_batch),
            ],
            check=True,
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        generate(Path(tmp), args.gpus, args.days)
        print(
            f"generated {args.gpus} GPUs x {args.days} days x 2 metrics at {STEP} s in "
            f"{time.perf_counter() - began:.0f} s"
        )
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                tmp,
                "--policy",
                args.policy,
                "--hosts-per-batch",
                str(args.hosts_per_batch),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
