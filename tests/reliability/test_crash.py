"""Crash safety: `costledger run` is killed with SIGKILL at every kind of point of a run (named
checkpoints, pipeline/crash.py), and after each kill the warehouse opens, every period holds
either its previous or its new ledger (never a mix, never half), every file balances, and a plain
rerun ends identical to a run that was never interrupted.

Why checkpoints rather than timers: a kill at "the 3rd COMMIT" is the same point on every machine
and every run, so a failure reproduces; the trace of an uninterrupted run lists every point, and
the test picks points spread over every stage from it."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.check_queries import load_balance_sql
from pipeline.cli import app
from pipeline.crash import CRASH_AT, CRASH_TRACE
from pipeline.workspace import Workspace
from tests.conftest import read_warehouse
from tests.reliability.test_bad_inputs import CONFIG, focus, focus_row

pytestmark = pytest.mark.slow
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-02-28"
POINTS = 16  # ~5-10 s each on 2 cores; the run has ~40 checkpoints, 8 of them distinct


def _digests(ws: Path) -> dict[str, str]:
    """What must end identical: the ledger per period, staging, loads and quarantine."""
    queries = {
        "staging.billing": "select * from staging.billing order by all",
        "staging.usage": "select * from staging.usage order by all",
        "staging.labor": "select * from staging.labor order by all",
        "staging.labor_rates": "select * from staging.labor_rates order by all",
        "meta.loads": "select load_id, source, path, checksum, rows_in, rows_loaded, rows_quarantined, status, "
        "superseded_by, periods from meta.loads order by all",
        "meta.quarantine": "select * from meta.quarantine order by all",
        "meta.pending_periods": "select period from meta.pending_periods order by all",
        "candidate": "select * from ledger.cost_ledger_candidate order by all",
    }
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        out = {name: _hash(con.execute(q).fetchall()) for name, q in queries.items()}
        for period in ("2026-01", "2026-02"):
            out[f"ledger {period}"] = _hash(
                con.execute(
                    "select * from ledger.cost_ledger where billing_period = ? order by all", [period]
                ).fetchall()
            )
    return out


def _hash(rows: list) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _base(root: Path) -> Path:
    """January published (the previous ledger); then new deliveries wait in the inbox: a
    restated January bill, February billing and usage, and HR files."""
    ws = Workspace.init(root, config_text=CONFIG).root
    inbox = ws / "inbox"
    (inbox / "billing" / "jan.csv").write_bytes(focus(focus_row("100.00", day="2026-01-05", period="2026-01")))
    (inbox / "usage" / "jan.csv").write_text("usage_date,model_id,requests\n2026-01-05,m1,1000\n")
    assert runner.invoke(app, ["run", "-w", str(ws), "--date", AS_OF]).exit_code == 0
    (inbox / "billing" / "jan.csv").write_bytes(
        focus(  # restatement: same path, new bytes
            focus_row("90.00", day="2026-01-05", period="2026-01"),
            focus_row("12.00", day="2026-01-07", period="2026-01", model="m2"),
        )
    )
    (inbox / "billing" / "feb-1.csv").write_bytes(
        focus(focus_row("10.00"), focus_row("2.50", model="m2"), focus_row("bad"))
    )
    (inbox / "billing" / "feb-2.csv").write_bytes(focus(focus_row("4.00", day="2026-02-10")))
    (inbox / "usage" / "feb.csv").write_text("usage_date,model_id,requests\n2026-02-03,m1,700\n2026-02-03,m2,300\n")
    (inbox / "labor" / "people.csv").write_text(
        "person_id,role,monthly_cost,currency\na,engineer,9000.00,USD\nb,engineer,8000.00,USD\nc,engineer,7000.00,USD\n"
    )
    (inbox / "labor" / "alloc.csv").write_text(
        "month,person_id,model_id,percent\n2026-02,a,m1,50\n2026-02,b,m1,50\n2026-02,c,m1,100\n"
    )
    return ws


def _cli(ws: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "-w", str(ws), "--date", AS_OF],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _points(trace: list[str]) -> list[str]:
    """POINTS `name:n` kill points: the first reach of every checkpoint, then others evenly
    spread over the run (every point if the run has fewer)."""
    seen: Counter[str] = Counter()
    every = []
    for name in trace:
        seen[name] += 1
        every.append(f"{name}:{seen[name]}")
    chosen = {f"{name}:1" for name in seen}
    rest = [p for p in every if p not in chosen]
    wanted = max(POINTS - len(chosen), 0)
    if rest and wanted:
        chosen |= {rest[round(i * (len(rest) - 1) / max(wanted - 1, 1))] for i in range(min(wanted, len(rest)))}
    return [p for p in every if p in chosen]


def test_sigkill_anywhere_leaves_the_warehouse_whole(tmp_path: Path) -> None:
    base = _base(tmp_path / "base")
    previous = _digests(base)

    # the uninterrupted run, traced: its end state is the reference, its trace the kill points
    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    trace_file = tmp_path / "trace.txt"
    done = _cli(reference, {CRASH_TRACE: str(trace_file)})
    assert done.returncode == 0, done.stderr
    final = _digests(reference)
    assert final["ledger 2026-01"] != previous["ledger 2026-01"]  # the run does change January
    points = _points(trace_file.read_text().split())
    stages = {p.split(":")[0] for p in points}
    assert (
        len(points) >= 16
        and {"file", "commit", "committed", "publish", "step.ingest", "step.build", "step.validate", "step.publish"}
        <= stages
    )

    def crash(point: str) -> tuple[str, Path, subprocess.CompletedProcess]:
        ws = tmp_path / point.replace(":", "_").replace(".", "_")
        shutil.copytree(base, ws)
        return point, ws, _cli(ws, {CRASH_AT: point})

    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 2, 4)) as pool:
        crashed = list(pool.map(crash, points))

    corrupt: list[str] = []
    for point, ws, result in crashed:
        if result.returncode != -signal.SIGKILL:
            corrupt.append(f"{point}: not killed (exit {result.returncode}): {result.stderr[-300:]}")
            continue
        try:
            state = _digests(ws)  # the warehouse opens, read-only
            with read_warehouse(ws) as con:
                balance = con.execute(
                    load_balance_sql(con), {"period": None, "since": None, "source_days": None, "gpu_days": None}
                ).fetchall()
        except duckdb.Error as exc:
            corrupt.append(f"{point}: warehouse unreadable after the kill: {exc}")
            continue
        for period in ("2026-01", "2026-02"):
            key = f"ledger {period}"
            if state[key] not in (previous[key], final[key]):
                corrupt.append(f"{point}: {period} ledger is neither the previous nor the new one")
        if not all(row[-2] for row in balance):
            corrupt.append(f"{point}: a load does not balance after the kill: {balance}")
        rerun = runner.invoke(app, ["run", "-w", str(ws), "--date", AS_OF])
        after = _digests(ws)
        different = sorted(k for k in final if after[k] != final[k])
        if different:
            corrupt.append(
                f"{point}: the rerun (exit {rerun.exit_code}: {rerun.output.strip()[:200]}) differs from an "
                f"uninterrupted run in {different}"
            )

    print(f"\ncrash test: {len(points)} kill points tried over {sorted(stages)}; {len(corrupt)} corrupt states")
    assert corrupt == []
