"""The warehouse's storage: connections leave DuckDB's vacuum off, so a checkpoint appends a
step's new rows as row groups of their own instead of rewriting the last partly filled one; every
COMPACT_EVERY-th publish (and `costledger compact`) merges them, without changing a row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import run, warehouse
from pipeline.cli import app
from pipeline.workspace import Workspace
from tests.reliability.test_bad_inputs import CONFIG, focus, focus_row

runner = CliRunner()


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(distinct row_group_id) from pragma_storage_info('{table}')").fetchall()[0][0]


def test_small_appends_stay_apart_until_compacted(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with warehouse.connect(path) as con:
        con.execute("create table main.t (i integer)")
        for batch in range(3):  # three commits of 100 rows, each checkpointed
            con.execute("insert into main.t select range + ? from range(100)", [100 * batch])
            con.execute("checkpoint")
        # with DuckDB's vacuum on, each checkpoint would merge the batch into the one before: 1 group
        assert _row_groups(con, "main.t") == 3
        con.execute("insert into main.t values (300)")  # a change, so the checkpoint writes
        warehouse.compact(con)
        assert _row_groups(con, "main.t") == 1  # 301 rows fit one row group of 122,880
        # the rows are the same: 0..300, whose sum is 300 * 301 / 2 = 45,150
        assert con.execute("select count(*), sum(i) from main.t").fetchall() == [(301, 45150)]
        # and vacuum is off again for the connection's later checkpoints
        con.execute("insert into main.t values (301)")
        con.execute("checkpoint")
        assert _row_groups(con, "main.t") == 2


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG).root
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(focus(focus_row("10.00"), focus_row("2.50")))
    run.run(ws)  # the first publish of 2026-02
    return ws


def _state(ws: Path) -> tuple[list, list, int]:
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        ledger = con.execute("select * exclude (run_id) from ledger.cost_ledger order by all").fetchall()
        compactions = con.execute(
            "select status, message from meta.runs where command = 'compact' order by started_at"
        ).fetchall()
        return ledger, compactions, _row_groups(con, "meta.runs")


def test_every_seventh_publish_compacts_the_warehouse(ws: Path) -> None:
    assert warehouse.COMPACT_EVERY == 7  # the figure the CLI's help states
    ledger, compactions, _ = _state(ws)
    assert compactions == [] and len(ledger) == 2
    for _ in range(5):  # publishes 2 to 6
        run.publish(ws, "2026-02")
    _, compactions, groups = _state(ws)
    assert compactions == []
    # each step's connection appended its meta.runs rows as a row group of their own: the run's
    # four steps and these five publishes are 9 checkpoints, so at least 9 groups
    assert groups >= 9
    run.publish(ws, "2026-02")  # the seventh
    after, compactions, groups = _state(ws)
    assert [status for status, _ in compactions] == ["success"]
    assert compactions[0][1].startswith("row groups merged in ")
    # the compaction merged them; only its own success row, checkpointed at the close, is apart
    assert groups <= 2
    assert after == ledger  # not a row changed
    run.publish(ws, "2026-02")  # the first of the next seven
    assert len(_state(ws)[1]) == 1


def test_compact_on_demand(ws: Path) -> None:
    result = runner.invoke(app, ["compact", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("compacted in ")
    _, compactions, groups = _state(ws)
    assert [status for status, _ in compactions] == ["success"] and groups <= 2
    # the count starts again from this compaction: six more publishes do not compact, the 7th does
    for _ in range(6):
        run.publish(ws, "2026-02")
    assert len(_state(ws)[1]) == 1
    run.publish(ws, "2026-02")
    assert len(_state(ws)[1]) == 2


def test_a_compaction_that_fails_leaves_the_publish_done(ws: Path, caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(5):  # publishes 2 to 6
        run.publish(ws, "2026-02")
    # another connection of this process, in the middle of a transaction: a checkpoint cannot run
    # beside it (and must not abort it)
    with warehouse.connect(ws / "warehouse.duckdb") as other:
        other.execute("begin transaction")
        other.execute("select count(*) from meta.runs").fetchall()
        assert run.publish(ws, "2026-02") == 2  # the seventh: published, its two rows
        other.execute("commit")
    assert "the warehouse was not compacted" in caplog.text
    _, compactions, _ = _state(ws)
    assert [status for status, _ in compactions] == ["failed"]
    run.publish(ws, "2026-02")  # the next publish tries again, and compacts
    assert [status for status, _ in _state(ws)[1]] == ["failed", "success"]
