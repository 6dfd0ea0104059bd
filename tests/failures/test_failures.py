"""meta.task_failures: what the DAGs' failure and retry callbacks record."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from pipeline.orchestration import failures
from pipeline.workspace import Workspace

ROW = dict(
    dag_id="cost_ledger_nightly",
    run_id="scheduled__2026-02-28T00:00:00+00:00",
    task_id="period_ledger.validate",
    map_index=1,
    try_number=3,
    state="failed",
    error="ValidationFailed: 2026-02: conservation",
    log_url="http://x/log",
)


def _rows(ws: Workspace) -> list[tuple]:
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        return con.execute(
            "select dag_id, task_id, map_index, try_number, state, error from meta.task_failures"
        ).fetchall()


def test_a_failure_is_recorded_with_its_task_try_and_error(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    failures.record_task_failure(str(ws.root), **ROW)
    assert _rows(ws) == [
        ("cost_ledger_nightly", "period_ledger.validate", 1, 3, "failed", "ValidationFailed: 2026-02: conservation")
    ]


def test_a_busy_warehouse_is_waited_for_then_given_up_on(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    failures.record_task_failure(str(ws.root), **ROW)  # creates the warehouse
    # Another process holds the one write lock for a while (as a running build would).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(ws.warehouse)!r}); print('locked', flush=True); "
            "time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(duckdb.IOException):
            failures.record_task_failure(str(ws.root), **ROW, wait_seconds=0)
        started = time.monotonic()
        failures.record_task_failure(str(ws.root), **ROW, wait_seconds=30)  # succeeds once it is released
        assert time.monotonic() - started < 30
    finally:
        holder.wait(timeout=30)
    assert len(_rows(ws)) == 2


def test_the_callback_never_raises(monkeypatch, tmp_path):
    class TI:
        dag_id, run_id, task_id, map_index, try_number = "d", "r", "t", None, 1

    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(tmp_path / "not-a-workspace"))
    failures.on_failure({"ti": TI(), "exception": RuntimeError("boom")})  # logged, not raised
