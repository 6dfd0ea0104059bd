"""The raw layer: every delivered row kept as Parquet under <workspace>/raw/ and read, exactly as
delivered, through raw.source_rows (pipeline.ingest.raw_store, pipeline.warehouse.define_raw_view)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import warehouse
from pipeline.cli import app
from pipeline.warehouse import connect_read_only
from tests.reliability.test_bad_inputs import focus, focus_row
from tests.reliability.test_hostile_ingest import _run, _workspace

runner = CliRunner()
USAGE = b"usage_date,model_id,requests\n2026-02-03,m1,100\n2026-02-04,m2,\n"


def _raw(ws: Path) -> list[tuple[str, str, int, dict]]:
    with connect_read_only(ws / "warehouse.duckdb") as con:
        rows = con.execute(
            "select l.path, r.source, r.row_number, r.record from raw.source_rows as r "
            "join meta.loads as l using (load_id) order by l.path, r.row_number"
        ).fetchall()
    return [(path, source, number, json.loads(record)) for path, source, number, record in rows]


def test_each_file_keeps_exactly_its_own_columns_and_text(tmp_path: Path) -> None:
    # Two billing files of different columns (one without Tags) and a usage file: three record
    # shapes, so three folders under raw/, and no record shows a column of another file.
    with_tags = focus(focus_row("10.00"), focus_row("2.50", model="m2"))
    without_tags = b"\n".join(
        line.rsplit(b",", 1)[0] if not line.endswith(b'"') else line.rsplit(b',"', 1)[0]
        for line in focus(focus_row("0.25", day="2026-02-04")).splitlines()
    )
    ws = _workspace(tmp_path, {"billing/a.csv": with_tags, "billing/b.csv": without_tags + b"\n", "usage/u.csv": USAGE})
    assert _run(ws).exit_code == 0
    rows = _raw(ws)
    assert [(path, source, number) for path, source, number, _ in rows] == [
        ("billing/a.csv", "billing", 1),
        ("billing/a.csv", "billing", 2),
        ("billing/b.csv", "billing", 1),
        ("usage/u.csv", "usage", 1),
        ("usage/u.csv", "usage", 2),
    ]
    a2, b1, u2 = rows[1][3], rows[2][3], rows[4][3]
    assert a2["BilledCost"] == "2.50" and a2["Tags"] == '{"model": "m2"}'  # the text delivered, not a number
    assert "Tags" not in b1 and b1["BilledCost"] == "0.25"  # b.csv has no Tags column: no such key
    assert u2 == {"usage_date": "2026-02-04", "model_id": "m2", "requests": None}  # an empty cell is null
    shapes = sorted(p.name for p in (ws / "raw").iterdir())
    assert len(shapes) == 3 and all(s.startswith("shape=") for s in shapes)
    # no row of the raw layer is kept in the database file itself
    with connect_read_only(ws / "warehouse.duckdb") as con:
        kinds = con.execute(
            "select table_type from information_schema.tables where table_schema = 'raw' and table_name = 'source_rows'"
        ).fetchall()
    assert kinds == [("VIEW",)]


def test_lineage_query_of_the_readme_leads_from_a_ledger_row_to_its_delivered_row(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, {"billing/a.csv": focus(focus_row("10.00"), focus_row("2.50", model="m2"))})
    assert _run(ws).exit_code == 0
    lineage = (
        "select l.model_id, sum(l.effective_cost), any_value(r.record->>'EffectiveCost') "
        "from ledger.cost_ledger l join raw.source_rows r on r.load_id || ':' || r.row_number = l.source_ref "
        "where l.source = 'billing' group by 1 order by 1"
    )
    out = runner.invoke(app, ["sql", "-w", str(ws), "--format", "csv", lineage])
    assert out.exit_code == 0, out.output
    # m1's row carries 10.00, m2's 2.50: each ledger row's source row is the line that charged it
    assert out.output.splitlines()[1:] == ["m1,10.0,10.00", "m2,2.5,2.50"]


def test_a_failed_load_leaves_no_raw_files_and_a_dead_writers_files_are_swept(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, {"billing/a.csv": focus(focus_row("10.00"))})
    assert _run(ws).exit_code == 0
    before = sorted(p.relative_to(ws) for p in (ws / "raw").rglob("*.parquet"))
    assert len(before) == 1
    # files a writer left when it died mid-load: a load id the warehouse does not hold
    orphan = ws / "raw" / "shape=0123456789abcdef" / "source=billing" / "load_id=billing-00000000dead"
    orphan.mkdir(parents=True)
    (orphan / "00001.parquet").write_bytes((ws / before[0]).read_bytes())
    assert _run(ws).exit_code == 0
    assert not (ws / "raw" / "shape=0123456789abcdef").exists()
    assert sorted(p.relative_to(ws) for p in (ws / "raw").rglob("*.parquet")) == before
    assert [row[:3] for row in _raw(ws)] == [("billing/a.csv", "billing", 1)]


def test_an_older_warehouse_with_raw_rows_in_a_table_is_moved_to_files(tmp_path: Path) -> None:
    # A warehouse of an earlier version: raw.source_rows a table of JSON objects. Opening it writes
    # the rows out as files and drops the table; the view shows the same rows.
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.source_rows (load_id varchar, source varchar, row_number bigint, record json not null)"
        )
        con.execute(
            "insert into raw.source_rows values ('billing-1', 'billing', 1, '{\"a\":\"x\",\"b\":null}'), "
            "('usage-2', 'usage', 7, '{\"c\":\"y\"}')"
        )
    with warehouse.connect(path) as con:
        got = con.execute(
            "select load_id, source, row_number, record::varchar from raw.source_rows order by load_id"
        ).fetchall()
    assert got == [("billing-1", "billing", 1, '{"a":"x","b":null}'), ("usage-2", "usage", 7, '{"c":"y"}')]
    folders = sorted(p.parent.name for p in (tmp_path / "raw").rglob("*.parquet"))
    assert folders == ["load_id=billing-1", "load_id=usage-2"]


@pytest.mark.parametrize("where", ["inside", "parent", "another workspace"])
def test_a_run_reads_each_raw_row_once_wherever_it_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # raw.source_rows reads `raw/...` relative to DuckDB's search path, which reads a glob's matches
    # in each of its folders. With the current directory on it, `cd ws && costledger run -w .` read
    # every raw row twice (the load balance then failed validation: 4 raw rows for 2 delivered), and
    # a run from inside another workspace read that one's raw files as well (the same file there:
    # the same load id). Only the workspace folder is searched.
    # two files, so that a thread parses one ahead of the writer, which reads its bundle's files by
    # paths relative to the current directory when the workspace is named by a relative path
    bill = focus(focus_row("10.00"), focus_row("2.50", model="m2"))
    ws = _workspace(tmp_path, {"billing/a.csv": bill, "billing/b.csv": focus(focus_row("0.25", day="2026-02-04"))})
    other = _workspace(tmp_path / "other", {"billing/a.csv": bill})
    assert _run(other).exit_code == 0  # its raw folder holds the same file a.csv, 2 rows
    start, named = {"inside": (ws, "."), "parent": (tmp_path, "ws"), "another workspace": (other, str(ws))}[where]
    monkeypatch.chdir(start)
    result = runner.invoke(app, ["run", "-w", named])
    assert result.exit_code == 0, result.output
    with warehouse.connect(ws / "warehouse.duckdb") as con:
        assert con.execute("select count(*) from raw.source_rows").fetchall() == [(3,)]
        ((search,),) = con.execute("select current_setting('file_search_path')").fetchall()
    assert search == str(ws.resolve())
    assert [(path, number) for path, _, number, _ in _raw(ws)] == [
        ("billing/a.csv", 1),
        ("billing/a.csv", 2),
        ("billing/b.csv", 1),
    ]


def test_a_workspace_whose_path_holds_a_comma_reads_its_raw_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB's file search path is a comma-separated list, so it cannot name the folder "a,b/ws".
    # Reading the raw files through it, the run failed ("No files found that match the pattern
    # raw/shape=...", exit 2). The raw view reads them under the workspace's full path, a variable
    # of the connection, wherever the run is started.
    ws = _workspace(tmp_path / "a,b", {"billing/a.csv": focus(focus_row("10.00"), focus_row("2.50", model="m2"))})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    # a.csv's 2 rows, read once, through the read-only connection too
    assert [(path, number) for path, _, number, _ in _raw(ws)] == [("billing/a.csv", 1), ("billing/a.csv", 2)]
    result = runner.invoke(app, ["sql", "-w", str(ws), "select count(*) as n from raw.source_rows"])
    assert result.exit_code == 0 and "2" in result.output, result.output


def test_a_raw_view_of_an_earlier_version_is_made_again(tmp_path: Path) -> None:
    # A warehouse whose raw.source_rows read `raw/...` through the search path (as the view was
    # made before it read the workspace's full path) gets the new view when it is next opened for
    # writing, with the same rows.
    ws = _workspace(tmp_path, {"billing/a.csv": focus(focus_row("10.00"))})
    assert _run(ws).exit_code == 0
    path = ws / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("set file_search_path = ?", [str(ws)])
        ((shape,),) = con.execute(
            "select regexp_extract(sql, 'raw/shape=(\\w+)/', 1) from duckdb_views() where view_name = 'source_rows'"
        ).fetchall()
        con.execute(
            "create or replace view raw.source_rows as select load_id, source, row_number, to_json(record) as record "
            f"from read_parquet('raw/shape={shape}/*/*/*.parquet', hive_partitioning = true)"
        )
    with warehouse.connect(path) as con:
        ((sql,),) = con.execute("select sql from duckdb_views() where view_name = 'source_rows'").fetchall()
        assert warehouse.WORKSPACE_VARIABLE in sql
        assert con.execute("select count(*) from raw.source_rows").fetchall() == [(1,)]
