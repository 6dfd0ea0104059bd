"""Threads parse the next inbox files while the writer loads one (pipeline.ingest.ahead): every
file is parsed once, by a parse thread or by the writer, and the warehouse, the messages and the
quarantine are what the writer alone gives. A parse thread never parses a file whose bytes are
loaded already, nor one the parse step has staged; a file a parse thread rejects is parsed again
by the writer, which reports it as it always does."""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import warehouse
from pipeline.cli import app
from pipeline.ingest import ahead, bundle, detect, ingest, stage
from pipeline.workspace import Workspace
from tests.ledger.test_billing_parts_kept import _usage
from tests.ledger.test_tax_pool import CONFIG_TOML, HEADER

GOOD_DAYS = (2, 3, 4, 5, 6, 7)
# six good bills (one a day, two rows each), one with a bad BilledCost (one row quarantined of two),
# one that is no bill at all (rejected: no FOCUS columns)
FILES = {
    **{f"billing/jan-{d:02d}.csv": [_usage(d, "search", f"{d}.25"), _usage(d, "recs", f"{d}.50")] for d in GOOD_DAYS},
    "billing/jan-08.csv": [_usage(8, "search", "8.00"), _usage(8, "recs", "eight")],
}
BROKEN = "billing/broken.csv"


def _workspace(root: Path, workers: int) -> Workspace:
    ws = Workspace.init(root, config_text=CONFIG_TOML + f"\n[ingest]\nparse_workers = {workers}\n")
    for name, lines in FILES.items():
        (ws.inbox / name).write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    (ws.inbox / BROKEN).write_text("this,is,not\na,bill,at all\n", encoding="utf-8")
    return ws


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[ahead.ParseAhead]:
    """Every ParseAhead the writer makes, kept to see what became of each file."""
    made: list[ahead.ParseAhead] = []

    class Kept(ahead.ParseAhead):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(ahead, "ParseAhead", Kept)
    return made


@pytest.fixture
def writer_parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times the writer itself (not a parse thread) parsed each file, by inbox path."""
    counts: Counter[str] = Counter()
    real = detect.parse_checked

    def parse_checked(ws, source, path, *args, **kwargs):
        if not threading.current_thread().name.startswith("parse-ahead"):
            counts[path.relative_to(ws.inbox).as_posix()] += 1
        return real(ws, source, path, *args, **kwargs)

    monkeypatch.setattr(detect, "parse_checked", parse_checked)
    return counts


def _tables(ws: Workspace) -> dict[str, list[tuple]]:
    """The staged rows, the loads and the quarantine, the workspace's folder named `<ws>` in messages."""
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        tables = {
            "billing": con.execute("select * from staging.billing order by load_id, row_number").fetchall(),
            "loads": con.execute(
                "select load_id, path, detected_format, rows_in, rows_loaded, rows_quarantined, status, message "
                "from meta.loads order by path"
            ).fetchall(),
            "quarantine": con.execute(
                'select load_id, path, row_number, "column", value, reason from meta.quarantine order by all'
            ).fetchall(),
        }
    root = str(ws.root)
    return {
        name: [tuple(v.replace(root, "<ws>") if isinstance(v, str) else v for v in row) for row in rows]
        for name, rows in tables.items()
    }


@pytest.mark.slow
def test_files_parsed_ahead_load_as_the_writer_alone_loads_them(
    tmp_path: Path, runs: list[ahead.ParseAhead], writer_parses: Counter[str]
) -> None:
    alone = _workspace(tmp_path / "alone", workers=0)
    expected = ingest(alone, settle_seconds=0)
    assert runs[0].workers == 0 and writer_parses.total() == 8  # every file the writer's (labor none)

    writer_parses.clear()
    ahead_ws = _workspace(tmp_path / "ahead", workers=1)
    got = ingest(ahead_ws, settle_seconds=0)

    parsing = runs[1]
    assert parsing.workers == 1
    # each of the 8 files once: from a parse thread's bundle, or parsed by the writer (taken back
    # before a thread started it, or rejected by the thread and parsed again to report it)
    assert sorted(parsing.outcomes) == sorted([*FILES, BROKEN])
    assert set(parsing.outcomes.values()) <= {"parsed", "writer", "rejected"}
    assert parsing.outcomes[BROKEN] in {"writer", "rejected"}
    by_writer = {path for path, outcome in parsing.outcomes.items() if outcome != "parsed"}
    assert dict(writer_parses) == dict.fromkeys(by_writer, 1)
    # the same rows, loads, messages and quarantine, and nothing left in the work folder
    assert _tables(ahead_ws) == _tables(alone)
    assert [e.replace(str(ahead_ws.root), "") for e in got.errors] == [
        e.replace(str(alone.root), "") for e in expected.errors
    ]
    assert (got.rows, got.periods) == (expected.rows, expected.periods)
    assert not any(bundle.root(ahead_ws).iterdir())


@pytest.mark.slow
def test_a_parse_thread_does_not_parse_bytes_already_loaded(
    tmp_path: Path, runs: list[ahead.ParseAhead], writer_parses: Counter[str]
) -> None:
    ws = _workspace(tmp_path / "ws", workers=1)
    ingest(ws, settle_seconds=0)
    before = _tables(ws)
    for path in ws.inbox.rglob("*.csv"):  # a copy or a restore: every file's status changes, not its bytes
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    writer_parses.clear()

    again = ingest(ws, settle_seconds=0)

    # the good files: known by their bytes, by the parse thread (status `loaded`) or the writer; the
    # rejected one is read again, as every run reads a rejected file
    outcomes = runs[-1].outcomes
    assert {outcomes[path] for path in FILES} <= {"loaded", "writer"}
    assert set(writer_parses) <= {BROKEN}
    assert again.loaded == [] and sorted(again.skipped) == sorted(FILES)
    assert _tables(ws) == before


def test_a_file_the_parse_step_staged_is_not_parsed_again(tmp_path: Path, runs: list[ahead.ParseAhead]) -> None:
    ws = _workspace(tmp_path / "ws", workers=0)
    staged = "billing/jan-02.csv"
    assert stage(ws, "billing", staged)["status"] == "parsed"  # as the DAG's parse task does
    assert bundle.staged_paths(ws) == {staged}
    ingest(ws, settle_seconds=0)
    assert runs[0].outcomes == {}  # parse_workers = 0: nothing handed to a parse thread
    assert not any(bundle.root(ws).iterdir())  # the staged bundle was loaded and removed


@pytest.mark.parametrize(
    ("setting", "cores", "files", "expected"),
    [
        (None, 2, 4, 1),  # one thread beside the writer on two cores
        (None, 8, 8, 7),
        (None, 8, 3, 2),  # at most one per file after the first
        (None, 2, 1, 0),  # one file: the writer parses it
        (None, 1, 20, 0),  # one core: the writer alone
        (0, 4, 20, 0),  # parse_workers = 0: never
        (3, 1, 20, 3),  # an explicit number is used as it is
        (3, 1, 2, 1),
    ],
)
def test_how_many_parse_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: int | None, cores: int, files: int, expected: int
) -> None:
    config = CONFIG_TOML + ("" if setting is None else f"\n[ingest]\nparse_workers = {setting}\n")
    ws = Workspace.init(tmp_path / "ws", config_text=config)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(cores)), raising=False)
    listed = [("billing", f"billing/f{i}.csv") for i in range(files)]
    assert ahead.workers(ws, listed) == expected


@pytest.mark.slow
def test_costledger_run_parsing_ahead_says_what_the_writer_alone_says(tmp_path: Path) -> None:
    runner = CliRunner()
    outputs = []
    for workers in (0, 1):
        ws = _workspace(tmp_path / f"ws{workers}", workers=workers)
        result = runner.invoke(app, ["run", "-w", str(ws.root), "--settle-seconds", "0", "--month", "2026-01"])
        assert result.exit_code == 2, result.output  # the broken file
        lines = result.output.replace(str(ws.root), "<ws>").splitlines()
        outputs.append([line for line in lines if not line.startswith("run done") and " in " not in line])
    assert outputs[0] == outputs[1]
    assert any(BROKEN in line and "rejected" in line for line in outputs[1])


def test_the_writer_works_in_less_memory_while_threads_parse_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COSTLEDGER_DUCKDB_MEMORY", raising=False)
    con = warehouse.connect(tmp_path / "warehouse.duckdb")

    def limit() -> str:  # as DuckDB shows it, in binary units
        return con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    full = limit()
    with warehouse.memory_beside_parsing(con, True):
        assert limit() == "953.6 MiB"  # MEMORY_LIMIT_BESIDE_PARSING: 10**9 bytes / 2**20
    assert limit() == full == "1.3 GiB"  # back to MEMORY_LIMIT: 1.5 * 10**9 bytes / 2**30 = 1.397
    with warehouse.memory_beside_parsing(con, False):
        assert limit() == full
    monkeypatch.setenv("COSTLEDGER_DUCKDB_MEMORY", "1.5GB")  # the user's setting is kept
    with warehouse.memory_beside_parsing(con, True):
        assert limit() == full
    con.close()


def test_parse_workers_changes_no_digest(tmp_path: Path) -> None:
    """How a run uses the machine is not what it computes: the build's recipe, the run_id and the
    bundles' config digest are those of a config without the setting."""
    from pipeline.ledger.build import recipe

    plain = Workspace.init(tmp_path / "plain", config_text=CONFIG_TOML)
    tuned = Workspace.init(tmp_path / "tuned", config_text=CONFIG_TOML + "\n[ingest]\nparse_workers = 3\n")
    assert tuned.config.ingest.parse_workers == 3 and plain.config.ingest.parse_workers is None
    assert tuned.config.model_dump_json() == plain.config.model_dump_json()  # what run_id hashes
    assert recipe(tuned.config) == recipe(plain.config)
    assert bundle.config_digest(tuned) == bundle.config_digest(plain)
