"""A real sample with rows corrupted on purpose, the workspace lock, and security: hostile
values stay data, ad-hoc SQL cannot write or reach files, secrets never leave the environment."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.lock import LOCK_FILE
from pipeline.workspace import Workspace
from tests.conftest import read_warehouse, samples_or_skip

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "x'); drop table ledger.cost_ledger; --"


def _rows(ws: Path, query: str, params: list | None = None) -> list[tuple]:
    with read_warehouse(ws) as con:
        return con.execute(query, params or []).fetchall()


# data row number (1 = first after the header) -> (column, bad value) of the FOCUS 1.0 sample
CORRUPT = {
    10: ("BilledCost", "12,5O"),
    200: ("ChargePeriodStart", "2024/09/31 25:00"),
    512: ("EffectiveCost", "NaN"),
    777: ("BillingCurrency", ""),
    999: ("ChargeCategory", "Usage?"),
}


def _corrupted_sample(ws: Path) -> tuple[list[str], list[list[str]]]:
    """The FOCUS 1.0 sample with CORRUPT applied, written to the workspace's billing inbox."""
    sample = samples_or_skip("billing", "focus-1.0", "focus_sample.csv")
    rows = list(csv.reader(io.StringIO(sample.read_text(encoding="utf-8-sig"))))
    header, data = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    for number, (column, value) in CORRUPT.items():
        data[number - 1][col[column]] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *data])
    (ws / "inbox" / "billing" / "focus_corrupted.csv").write_text(out.getvalue(), encoding="utf-8")
    return header, data


def test_a_corrupted_real_sample_quarantines_exactly_the_corrupted_rows(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws").root
    header, data = _corrupted_sample(ws)
    col = {name: i for i, name in enumerate(header)}
    corrupt = CORRUPT

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 0, result.output
    quarantined = _rows(ws, 'select row_number, "column", value from meta.quarantine order by row_number')
    assert quarantined == [(n, c, v or None) for n, (c, v) in sorted(corrupt.items())]
    assert _rows(ws, "select rows_in, rows_loaded, rows_quarantined from meta.loads") == [(1000, 995, 5)]
    # the other 995 rows load, to the last decimal: sum them from the file by hand
    expected: dict[str, Decimal] = {}
    for number, row in enumerate(data, start=1):
        if number not in corrupt:
            period = row[col["BillingPeriodStart"]][:7]
            expected[period] = expected.get(period, Decimal(0)) + Decimal(row[col["BilledCost"]])
    got = dict(_rows(ws, "select billing_period, sum(source_amount) from ledger.cost_ledger group by 1"))
    assert got == expected
    assert runner.invoke(app, ["check", "-w", str(ws)]).exit_code == 0


def test_a_corrupted_real_sample_under_reject_file_loads_nothing_and_keeps_every_row(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws").root
    config = ws / "costledger.toml"
    config.write_text(config.read_text() + '\n[bad_rows]\nbilling = "reject_file"\n')
    _corrupted_sample(ws)

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 2
    assert (
        "focus_corrupted.csv, row 10, column 'BilledCost'" in result.output
        and "nothing of this file was loaded" in result.output
    )
    # 1000 rows in = 0 loaded + 1000 quarantined: the 5 corrupted with their own reasons...
    assert _rows(ws, "select status, rows_in, rows_loaded, rows_quarantined from meta.loads") == [
        ("rejected", 1000, 0, 1000)
    ]
    bad = _rows(
        ws, 'select row_number, "column", value from meta.quarantine where "column" <> \'(file)\' order by row_number'
    )
    assert bad == [(n, c, v or None) for n, (c, v) in sorted(CORRUPT.items())]
    # ...and the 995 others as not loaded because of them; nothing reached raw or staging
    assert _rows(
        ws, "select count(distinct row_number), min(reason) from meta.quarantine where \"column\" = '(file)'"
    ) == [(995, "not loaded: the file is rejected for its bad rows (first: row 10; bad_rows.billing = 'reject_file')")]
    assert _rows(ws, "select (select count(*) from raw.source_rows) + (select count(*) from staging.billing)") == [(0,)]


def _hold_lock(ws: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the workspace lock for `seconds`."""
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(ws / LOCK_FILE)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.write(fd, b'pid %d, run, since now' % os.getpid())\n"
        "print('held', flush=True)\n"
        f"time.sleep({seconds})\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _small_workspace(root: Path) -> Path:
    ws = Workspace.init(root).root
    (ws / "inbox" / "usage" / "u.csv").write_text("usage_date,model_id,requests\n2026-01-01,m,10\n")
    return ws


def test_a_second_writer_stops_with_a_clear_message_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _small_workspace(tmp_path / "ws")
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 0
    before = (ws / "warehouse.duckdb").read_bytes()
    (ws / "inbox" / "usage" / "u2.csv").write_text("usage_date,model_id,requests\n2026-01-02,m,5\n")
    holder = _hold_lock(ws, 30)
    try:
        monkeypatch.setenv("COSTLEDGER_LOCK_WAIT", "0.5")
        result = runner.invoke(app, ["run", "-w", str(ws)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "another costledger process is writing to this workspace (pid" in result.output
    assert "nothing was changed" in result.output and "Traceback" not in result.output
    assert (ws / "warehouse.duckdb").read_bytes() == before


def test_a_second_writer_waits_for_the_lock_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _small_workspace(tmp_path / "ws")
    holder = _hold_lock(ws, 1.5)
    monkeypatch.setenv("COSTLEDGER_LOCK_WAIT", "60")
    started = time.monotonic()
    result = runner.invoke(app, ["run", "-w", str(ws)])
    holder.wait()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0  # it waited for the holder
    assert _rows(ws, "select status from meta.loads") == [("loaded",)]


@pytest.mark.slow
def test_two_concurrent_runs_never_corrupt_the_warehouse(tmp_path: Path) -> None:
    ws = _small_workspace(tmp_path / "ws")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COSTLEDGER_LOCK_WAIT": "0"}
    command = [sys.executable, "-m", "pipeline.cli", "run", "-w", str(ws), "--month", "2026-01"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in outcomes)
    # one wins; the other either found the lock taken (exit 2, clear message) or ran after it
    assert codes in ([0, 0], [0, 2]), outcomes
    for code, err in outcomes:
        if code == 2:
            assert "another costledger process is writing to this workspace" in err
            assert "Traceback" not in err
    assert _rows(ws, "select path, status, rows_loaded from meta.loads") == [("usage/u.csv", "loaded", 1)]
    assert _rows(ws, "select count(*) from staging.usage") == [(1,)]


def test_hostile_names_and_tags_stay_data(tmp_path: Path) -> None:
    config = f'[[models]]\nid = "m1"\nname = "{HOSTILE}"\n[attribution]\ntag_keys = ["model", "team"]\n'
    ws = Workspace.init(tmp_path / "ws", config_text=config).root
    tags = '{""team"": ""' + HOSTILE.replace("'", "'") + '"", ""model"": ""m1""}'
    (ws / "inbox" / "billing" / "b.csv").write_text(
        "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,Tags\n"
        f'1.00,1.00,USD,2026-01-01,2026-01-02,2026-01-02 01:00:00,Usage,AWS,"{HOSTILE}","{tags}"\n'
    )
    (ws / "inbox" / "usage" / "u.csv").write_text(f'usage_date,model_id,requests\n2026-01-02,"{HOSTILE}",3\n')
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert _rows(ws, "select count(*) from ledger.cost_ledger") == [(1,)]
    assert _rows(ws, "select ServiceName from staging.billing") == [(HOSTILE,)]
    assert _rows(ws, "select model_id from staging.usage") == [(HOSTILE,)]
    # and asked for by value, it is found by value
    sql = runner.invoke(
        app,
        [
            "sql",
            "-w",
            str(ws),
            "--format",
            "csv",
            f"select count(*) as n from staging.usage where model_id = '{HOSTILE.replace(chr(39), chr(39) * 2)}'",
        ],
    )
    assert sql.output.splitlines() == ["n", "1"], sql.output


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_csv('/etc/passwd')",
        "attach '/tmp/costledger-other.duckdb' as other",
        "set enable_external_access = true",
        "install httpfs",
        "create table ledger.x as select 1",
        "update meta.loads set status = 'x'",
        "copy (select 1) to '/tmp/costledger-out.csv'",
    ],
)
def test_sql_is_read_only_without_file_access(tmp_path: Path, query: str) -> None:
    ws = _small_workspace(tmp_path / "ws")
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 0
    before = (ws / "warehouse.duckdb").read_bytes()
    result = runner.invoke(app, ["sql", "-w", str(ws), query])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: query refused")
    assert (ws / "warehouse.duckdb").read_bytes() == before
    assert not Path("/tmp/costledger-out.csv").exists() and not Path("/tmp/costledger-other.duckdb").exists()


def test_the_pseudonym_key_never_leaves_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = "k3y-0f-the-test-that-must-not-leak"
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", key)
    ws = Workspace.init(tmp_path / "ws", config_text='[[models]]\nid = "m1"\nname = "one"\n').root
    (ws / "inbox" / "labor" / "people.csv").write_text(
        "person_id,role,monthly_cost,currency\nalice,engineer,9000.00,USD\nbob,engineer,8000.00,USD\ncarol,engineer,7000.00,USD\n"
    )
    (ws / "inbox" / "labor" / "alloc.csv").write_text(
        "month,person_id,model_id,percent\n2026-01,alice,m1,50\n2026-01,bob,m1,50\n2026-01,carol,m1,100\n"
    )
    (ws / "inbox" / "labor" / "alloc-bad.csv").write_text("month,person_id,model_id,percent\n2026-02,carol,m1,101\n")
    caplog.set_level("DEBUG")
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 2, result.output  # carol's 101% rejects that file: its message is logged
    texts = [result.output, caplog.text]
    for path in [ws / "warehouse.duckdb", *(ws / "restricted").glob("*"), *ws.rglob("*.json"), *ws.rglob("*.html")]:
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    texts += [str(r) for r in _rows(ws, "select * from meta.runs")] + [
        str(r) for r in _rows(ws, "select * from meta.loads")
    ]
    assert all(key not in text for text in texts)
