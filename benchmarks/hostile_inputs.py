"""Benchmark (not a test): peak memory of `costledger run` (and `convert`) on hostile inputs, with
the default limits of `[ingest]` (pipeline.config.Ingest).

Each case is generated into a temporary folder (never committed): a fresh workspace with one good
bill and the hostile file in inbox/billing/. The command runs in a child process; the script
prints the child's peak RSS (os.wait4's ru_maxrss), wall time, exit code and the first line it
printed. Every case must stay under 2 GiB, refused or loaded.

| case | input |
|---|---|
| gzip bomb (run, convert) | a 19 MB .csv.gz (gzip members) that expands to 3 GiB of bill lines |
| 200 MB field | one row whose quoted ChargeDescription is 200 MB |
| 200 MB line | a line of 200 MB with no line end |
| 50 MB field | one row whose quoted ChargeDescription is 50 MB |
| 3 MiB field (loads) | one row with a 3 MiB description: under the 4 MiB field limit, so it loads |
| 200 MB / 1 GB long samples | GPU telemetry, a long CSV (ts, gpu, metric, value, labels): parsed in chunks |
| 200 MB exposition | dcgm-exporter scrapes with timestamps, concatenated: parsed in chunks |
| 32 MiB / 48 MB Prometheus answer | one `query_range` JSON document: parsed whole; refused above `max_document_mib` |
| 128 MiB / 150 MB usage table | a usage CSV (neither billing nor telemetry): parsed whole, within `max_table_mib` |

Telemetry, usage and other files go into their own inbox folder (the case's file name says which).

    python benchmarks/hostile_inputs.py [--keep DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "costledger"
MB = 1_000_000
MIB = 1 << 20
GIB = 1 << 30
CONFIG = """\
reporting_currency = "USD"
[[models]]
id = "m1"
name = "Model one"
[attribution]
tag_keys = ["model"]
"""
HEADER = (
    "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,ProviderName,ServiceName,Tags,ChargeDescription\n"
)


def row(cost: str, day: int, description: str = "compute") -> str:
    return (
        f"{cost},{cost},USD,2026-02-01 00:00:00,2026-03-01 00:00:00,2026-02-{day:02d} 00:00:00,2026-02-{day:02d} "
        "01:00:00,"
        f'Usage,AWS,Amazon EC2,"{{""model"": ""m1""}}",{description}\n'
    )


GOOD = HEADER + row("10.00", 3) + row("2.50", 4)


def write_field(path: Path, size: int) -> None:
    """A bill whose second row's ChargeDescription is a quoted value of `size` bytes, written in pieces."""
    with path.open("w") as out:
        out.write(HEADER + row("1.00", 5))
        out.write(row("1.00", 6, description='"').rstrip("\n"))
        piece = "lorem ipsum, dolor " * (MIB // 19)
        left = size
        while left > 0:
            out.write(piece[:left])
            left -= len(piece)
        out.write('"\n')


def write_line(path: Path, size: int) -> None:
    """A bill whose second line is `size` bytes with no line end."""
    with path.open("w") as out:
        out.write(HEADER)
        piece = "9" * MIB
        for _ in range(size // MIB):
            out.write(piece)


def write_bomb(path: Path, size: int) -> None:
    """gzip members of 64 MiB of bill lines each, concatenated: `size` bytes once decompressed."""
    lines = "".join(row(f"{n % 97}.{n % 100:02d}", n % 27 + 1) for n in range(20))
    block = (HEADER + lines * (64 * MIB // len(lines) + 1))[: 64 * MIB].encode()
    member = gzip.compress(block, compresslevel=9, mtime=0)  # about 170 times smaller: 3 GiB in about 19 MB
    with path.open("wb") as out:
        for _ in range(size // len(block)):
            out.write(member)


LABELS = '"{""Hostname"":""node-a"",""exported_pod"":""train-0"",""exported_namespace"":""ml""}"'
METRICS = ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_SM_CLOCK")
START = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def _lines(path: Path, size: int, header: str, line: Callable[[int], str]) -> None:
    """`header`, then lines `line(0)`, `line(1)`, ... until the file has `size` bytes."""
    with path.open("w") as out:
        out.write(header)
        written, n = len(header), 0
        while written < size:
            block = "".join(line(i) for i in range(n, n + 10_000))
            out.write(block)
            written += len(block)
            n += 10_000


def write_long_samples(path: Path, size: int) -> None:
    """A long telemetry CSV: 8 GPUs x 4 metrics a second, every sample distinct."""

    def line(i: int) -> str:
        moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + i // 32))
        return f"{moment},{i % 8},{METRICS[i // 8 % 4]},{i % 997}.5,{LABELS}\n"

    _lines(path, size, "ts,gpu,metric,value,labels\n", line)


def write_exposition(path: Path, size: int) -> None:
    """Scrapes of 8 GPUs x 4 metrics, each sample with its timestamp, concatenated."""

    def line(i: int) -> str:
        labels = (
            f'gpu="{i % 8}",UUID="GPU-{i % 8:08d}",Hostname="node-a",exported_pod="train-0",exported_namespace="ml"'
        )
        return f"{METRICS[i // 8 % 4]}{{{labels}}} {i % 997}.5 {(START + i // 32) * 1000}\n"

    _lines(path, size, "", line)


def write_prometheus(path: Path, size: int) -> None:
    """A query_range answer: series of 8 GPUs x 4 metrics, a point a second, `size` bytes."""
    points = max(1, size // (32 * 21))
    with path.open("w") as out:
        out.write('{"status":"success","data":{"resultType":"matrix","result":[')
        for n in range(32):
            metric = f'{{"__name__":"{METRICS[n // 8]}","gpu":"{n % 8}","Hostname":"node-a"}}'
            values = ",".join(f'[{START + i},"{i % 997}.5"]' for i in range(points))
            out.write(("," if n else "") + f'{{"metric":{metric},"values":[{values}]}}')
        out.write("]}}")


def write_usage(path: Path, size: int) -> None:
    """A usage table (usage_date, model_id, requests, tokens): one row per model, one day."""

    def line(i: int) -> str:
        return f"2026-01-05,model-{i},{i % 9973},{i % 99991},{i % 7919}\n"

    _lines(path, size, "usage_date,model_id,requests,input_tokens,output_tokens\n", line)


CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    # name: (file name, writer, command)
    "gzip bomb, run": ("bomb.csv.gz", lambda p: write_bomb(p, 3 * GIB), "run"),
    "gzip bomb, convert": ("bomb.csv.gz", lambda p: write_bomb(p, 3 * GIB), "convert"),
    "200 MB field": ("field200.csv", lambda p: write_field(p, 200 * MB), "run"),
    "200 MB line": ("line200.csv", lambda p: write_line(p, 200 * MB), "run"),
    "50 MB field": ("field50.csv", lambda p: write_field(p, 50 * MB), "run"),
    "3 MiB field (loads)": ("field3.csv", lambda p: write_field(p, 3 * MIB), "run"),
    "200 MB long samples": ("telemetry/long200.csv", lambda p: write_long_samples(p, 200 * MB), "run"),
    "1 GB long samples": ("telemetry/long1000.csv", lambda p: write_long_samples(p, 1000 * MB), "run"),
    "200 MB exposition": ("telemetry/scrapes200.prom", lambda p: write_exposition(p, 200 * MB), "run"),
    "32 MiB Prometheus answer": ("telemetry/answer32.json", lambda p: write_prometheus(p, 32 * MIB - MB), "run"),
    "48 MB Prometheus answer": ("telemetry/answer48.json", lambda p: write_prometheus(p, 48 * MB), "run"),
    "128 MiB usage table": ("usage/usage128.csv", lambda p: write_usage(p, 128 * MIB - MB), "run"),
    "150 MB usage table": ("usage/usage150.csv", lambda p: write_usage(p, 150 * MB), "run"),
}


def measure(command: list[str]) -> tuple[int, float, float, str]:
    """(exit code, peak RSS in MiB, seconds, first line printed) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "COSTLEDGER_SETTLE_SECONDS": "0"}
    )
    output = child.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    lines = [line for line in output.splitlines() if line.strip()]
    last = next(
        (line for line in lines if line.startswith(("error:", "published:", "warning:"))), lines[-1] if lines else ""
    )
    return child.returncode, usage.ru_maxrss / 1024, seconds, last


def run_case(name: str, base: Path) -> None:
    file_name, write, command = CASES[name]
    ws = base / name.replace(" ", "-").replace(",", "").replace("(", "").replace(")", "")
    shutil.rmtree(ws, ignore_errors=True)
    folder, _, file_name = file_name.rpartition("/")
    for each in {"billing", folder or "billing"}:
        (ws / "inbox" / each).mkdir(parents=True)
    (ws / "costledger.toml").write_text(CONFIG)
    (ws / "inbox" / "billing" / "good.csv").write_text(GOOD)
    hostile = ws / "inbox" / (folder or "billing") / file_name
    write(hostile)
    size = hostile.stat().st_size
    if command == "run":
        argv = [str(CLI), "run", "-w", str(ws)]
    else:
        argv = [str(CLI), "convert", str(hostile), "--out", str(ws / "out.parquet")]
    code, rss, seconds, line = measure(argv)
    verdict = "ok" if rss < 2048 else "OVER 2 GiB"
    print(
        f"{name:<24} {size / MB:>9,.1f} MB  exit {code}  peak RSS {rss:>7,.0f} MiB ({verdict})  {seconds:>6.1f} s  "
        f"{line[:160]}",
        flush=True,
    )
    hostile.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", type=Path, help="Generate into this folder and keep it (default: a temporary folder)."
    )
    parser.add_argument("--only", nargs="*", choices=list(CASES), help="Run only these cases.")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="costledger-hostile-"))
    print(f"{'case':<22} {'input':>12}  outcome (default [ingest] limits; peak RSS of the child process)")
    try:
        for name in args.only or CASES:
            run_case(name, base)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
