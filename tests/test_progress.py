"""Progress of long commands off a terminal (a pipe, a log, a test): plain lines per file and per
period, then a summary with the counts; no control characters, file names escaped; the library's
default (what Airflow's task logs show) logs the same lines."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import run
from pipeline.cli import app
from pipeline.progress import Lines, for_stderr
from tests.export.test_export_focus import HEADER, ROWS

runner = CliRunner()
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but a newline and a tab
SECONDS = r"\d+\.\d s"
EVIL = "vol\x1b[31mred\n.csv"  # an escape sequence and a newline in a file name


def _workspace(tmp_path: Path) -> Path:
    """Two usage files of January: one clean, one (with a hostile name) with a bad row."""
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    (ws / "inbox" / "usage" / "a.csv").write_text("usage_date,model_id,requests\n2026-01-01,m,10\n2026-01-02,m,20\n")
    (ws / "inbox" / "usage" / EVIL).write_text("usage_date,model_id,requests\n2026-01-03,m,10\n2026-01-04,m,lots\n")
    return ws


def test_run_says_what_it_does_per_file_and_period_then_sums_up(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    result = runner.invoke(app, ["run", "-w", str(ws), "--date", "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert not CONTROL.search(result.output), repr(result.output)
    lines = result.output.splitlines()
    expected = [
        "loading inbox files (2)",
        "[1/2] usage/a.csv: 2 rows loaded",
        # sorted by name: "a" < "v"; the escape and the newline shown as escapes, on one line
        r"[2/2] usage/vol\x1b[31mred\n.csv: 1 row loaded, 1 quarantined",
        "building, validating and publishing periods (1)",
        rf"\[1/1\] 2026-01: \d+ ledger rows? built, validated and published in {SECONDS}",
        # 2 + 1 rows loaded, 1 quarantined; one period
        rf"run done: 2 files loaded \(3 rows, 1 quarantined\); 1 period published \(2026-01\); {SECONDS}",
    ]
    assert lines[:4] == expected[:4]
    assert re.fullmatch(expected[4], lines[4]) and re.fullmatch(expected[5], lines[5]), lines
    # then the quarantine line of the file and the result, last, on standard output
    assert lines[6].startswith(r"usage/vol\x1b[31mred\n.csv: 2 rows in, 1 loaded, 1 quarantined")
    assert lines[-1] == "published: 2026-01" and result.stdout == "published: 2026-01\n"

    again = runner.invoke(app, ["run", "-w", str(ws), "--date", "2026-01-31"])
    assert again.exit_code == 0, again.output
    lines = again.output.splitlines()
    assert lines[1:3] == [
        "[1/2] usage/a.csv: unchanged, already loaded",
        r"[2/2] usage/vol\x1b[31mred\n.csv: unchanged, already loaded",
    ]
    assert re.fullmatch(
        rf"run done: 0 files loaded \(0 rows\), 2 unchanged; 1 period published \(2026-01\); {SECONDS}", lines[-2]
    ), lines


def test_convert_says_what_it_read_kept_and_wrote(tmp_path: Path) -> None:
    source = tmp_path / "bill.csv"  # three rows, and a fourth whose cost does not parse
    source.write_text("\n".join([HEADER, *ROWS, ROWS[2].replace("1.50,1.50", "1.50,one")]) + "\n", encoding="utf-8")
    out = tmp_path / "focus.parquet"
    result = runner.invoke(app, ["convert", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == [
        "converting bill.csv to FOCUS 1.2 (3)",
        "[1/3] bill.csv: 4 rows read (focus-1.2)",
        "[2/3] bill.csv: 3 rows kept, 1 quarantined",
        f"[3/3] {out}: 3 rows written (parquet)",
    ]
    assert re.fullmatch(rf"convert done: 1 file, 3 rows written, 1 quarantined; {SECONDS}", lines[4]), lines
    assert result.stdout == f"3 rows of FOCUS 1.2 written to {out}\n"


def test_generate_says_what_it_wrote(tmp_path: Path) -> None:
    ws = tmp_path / "gen"
    result = runner.invoke(app, ["generate", "-w", str(ws), "--scale", "S"])
    assert result.exit_code == 0, result.output
    assert not CONTROL.search(result.output)
    lines = result.output.splitlines()
    families = ["billing", "telemetry", "assets", "labor", "charges", "milestones", "usage", "fx", "budgets"]
    assert lines[0] == "generating a 1-month estate (9)"
    assert [re.sub(r": \d+ files?$", "", line) for line in lines[1:10]] == [
        f"[{i}/9] {f}" for i, f in enumerate(families, 1)
    ]
    files = [f for f in (ws / "inbox").rglob("*") if f.is_file()]
    # the summary counts every file in the inbox: the per-family counts add up to it
    assert sum(int(re.search(r": (\d+) files?$", line)[1]) for line in lines[1:10]) == len(files)
    assert re.fullmatch(rf"generate done: {len(files):,} input files, [\d,]+\.\d MiB; {SECONDS}", lines[10]), lines


def test_the_library_logs_the_same_lines_for_airflow(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = _workspace(tmp_path)
    with caplog.at_level(logging.INFO, logger="pipeline.progress"):
        run.ingest(ws)
    lines = [r.getMessage() for r in caplog.records if r.name == "pipeline.progress"]
    assert lines == [
        "loading inbox files (2)",
        "[1/2] usage/a.csv: 2 rows loaded",
        r"[2/2] usage/vol\x1b[31mred\n.csv: 1 row loaded, 1 quarantined",
    ]


def test_off_a_terminal_the_lines_are_plain(capsys: pytest.CaptureFixture[str]) -> None:
    written: list[str] = []
    with for_stderr(written.append) as shown:  # pytest's captured stderr is no terminal
        assert isinstance(shown, Lines)
        shown.phase("things", 2)
        shown.item("one\x1b[2J")
        shown.item("two")
        shown.summary("done")
    assert written == ["things (2)", r"[1/2] one\x1b[2J", "[2/2] two", "done"]
    assert capsys.readouterr().err == ""
