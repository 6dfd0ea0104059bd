"""The DuckDB warehouse: open it, create its layers from `sql/`, and read it safely."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline import crash
from pipeline.errors import CostLedgerError

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# DuckDB's working memory; beyond it, sorts, joins and aggregations spill to <warehouse>.tmp/, so
# a month of any size runs in bounded memory: every step's process stays under 2 GiB with the
# Python around it. COSTLEDGER_DUCKDB_MEMORY overrides it (e.g. "8GB").
MEMORY_LIMIT = "1.5GB"
# ... and the writer's while threads parse the next files beside it (pipeline.ingest.ahead), each
# holding one file's parse (a large file is parsed in chunks): the process stays under 2 GiB too.
MEMORY_LIMIT_BESIDE_PARSING = "1GB"
# Layer order: later layers read earlier ones.
LAYERS: tuple[str, ...] = ("meta", "raw", "staging", "ledger", "marts")
# The raw layer's files, under the workspace (see pipeline.ingest.raw_store): one folder per record
# shape, `shape=json` for rows that are one JSON document each.
RAW_FOLDER = "raw"
# the connection variable holding the workspace folder's full path (_search_workspace)
WORKSPACE_VARIABLE = "costledger_workspace"
JSON_SHAPE = "json"
# Rows per statement of insert_values: more gain nothing, and make longer statements to parse.
ROWS_PER_INSERT = 200
# DuckDB's vacuum merges small row groups at each checkpoint, in every table, changed or not: a
# nightly run's checkpoints rewrote each table's last, partly filled row group with the new day's
# rows (about 0.4 s of a 4.9 s night at scale M). Connections run with it off; compact() runs it
# once every COMPACT_EVERY publishes (see run.publish) and on demand (`costledger compact`). Row
# groups whose rows are all deleted are dropped either way, so a rebuilt month takes no more room.
VACUUM_TASKS = 100  # DuckDB's default max_vacuum_tasks
COMPACT_EVERY = 7


def sql_text(*parts: str) -> str:
    """The text of one query kept under `sql/`: `sql_text("report", "unit_costs_by_day")` reads
    sql/report/unit_costs_by_day.sql."""
    return SQL_DIR.joinpath(*parts[:-1], f"{parts[-1]}.sql").read_text(encoding="utf-8")


def fill(query: str, **parts: str) -> str:
    """`query` with each `$name` of `parts` replaced by its SQL text (a predicate, a subquery or a
    literal the code writes); the other `$names` stay for DuckDB to bind. The replacements are not
    scanned again, so a subquery may carry parameters of its own."""
    return re.sub(r"\$(\w+)\b", lambda m: parts.get(m.group(1), m.group(0)), query)


def sql_files() -> list[Path]:
    """Every table's DDL, in layer order, one file per table named after it."""
    files: list[Path] = []
    for layer in LAYERS:
        files.extend(sorted((SQL_DIR / layer).glob("*.sql")))
    return files


def create_schema(con: duckdb.DuckDBPyConnection, root: Path | None = None) -> None:
    """Create every schema, table and view (idempotent). Skipped when the warehouse already has
    this exact set of DDL files (their digest is kept in meta.schema_digest): a connection does
    not run the DDL again.
    `root`: the workspace folder, where an older warehouse's raw rows are written out as files."""
    texts = [path.read_text() for path in sql_files()]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    try:
        if first_row(con, "select digest from meta.schema_digest") == (digest,):
            return
    except duckdb.CatalogException:
        pass
    if root is not None:
        _raw_rows_out_of_the_database(con, root)
    for layer in LAYERS:
        con.execute(f"create schema if not exists {layer}")
    for text in texts:
        con.execute(text)
    con.execute("create or replace table meta.schema_digest as select ?::varchar as digest", [digest])
    con.execute(
        "comment on table meta.schema_digest is 'Digest of the sql/ files the warehouse was last created from (one "
        "row).'"
    )


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-write connection with every layer in place."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("COSTLEDGER_DUCKDB_MEMORY", MEMORY_LIMIT),
        "max_vacuum_tasks": 0,
    }
    con = duckdb.connect(str(path), config=config)
    con.execute("set enable_progress_bar = false")  # no bars drawn into CLI and task logs
    root = Path(path).resolve().parent
    _search_workspace(con, root)
    create_schema(con, root)
    define_raw_view(con, root)
    return con


def compact(con: duckdb.DuckDBPyConnection) -> None:
    """Merge the warehouse's small and partly deleted row groups: a checkpoint with DuckDB's vacuum
    on. A checkpoint writes only when something changed since the last one: the caller has written
    (run.compact records itself in meta.runs first)."""
    con.execute(f"set max_vacuum_tasks = {VACUUM_TASKS}")
    try:
        con.execute("checkpoint")  # not FORCE: another connection's open transaction makes it fail, not abort
    finally:
        con.execute("set max_vacuum_tasks = 0")


def compaction_due(con: duckdb.DuckDBPyConnection) -> bool:
    """COMPACT_EVERY publishes or more since the last compaction (or ever, if none)."""
    row = con.execute(sql_text("warehouse", "compaction_due"), {"every": COMPACT_EVERY}).fetchall()
    return bool(row[0][0])


@contextmanager
def memory_beside_parsing(con: duckdb.DuckDBPyConnection, parsing: bool) -> Iterator[None]:
    """DuckDB's memory on `con` lowered to MEMORY_LIMIT_BESIDE_PARSING while threads parse beside
    it (`parsing`), unless COSTLEDGER_DUCKDB_MEMORY sets it."""
    if not parsing or "COSTLEDGER_DUCKDB_MEMORY" in os.environ:
        yield
        return
    con.execute(f"set memory_limit = '{MEMORY_LIMIT_BESIDE_PARSING}'")
    try:
        yield
    finally:
        con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")


def connect_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A connection for ad-hoc SQL: read-only, and unable to touch files or the network except
    the raw layer's files (which raw.source_rows reads)."""
    if not Path(path).exists():
        raise CostLedgerError(f"{path}: no warehouse here; run `costledger run` first")
    try:
        con = duckdb.connect(
            str(path),
            read_only=True,
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
    except duckdb.IOException as exc:
        raise CostLedgerError(f"{path}: cannot open the warehouse read-only: {exc}") from None
    root = Path(path).resolve().parent
    # the view's relative glob is checked as written, the files it finds as full paths
    con.execute("set allowed_directories = ?", [[f"{RAW_FOLDER}/", f"{root / RAW_FOLDER}/"]])
    _search_workspace(con, root)
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")  # no SET can undo the above
    return con


def _search_workspace(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """The workspace folder, for what reads files in it. raw.source_rows reads its files under the
    folder's full path, kept in the connection's variable WORKSPACE_VARIABLE (raw_rows_shape.sql):
    DuckDB's search path is a comma-separated list, which cannot name a folder whose path holds a
    comma. Other relative paths resolve in the workspace folder (the search path) when its path
    holds none; DuckDB reads a glob's matches in every folder of the search path, so the current
    directory is not one of them. A relative path to a single file that is not in the workspace
    folder is still found in the current directory (DuckDB's own fallback), as the ingest's bundle
    files of a workspace named by a relative path are."""
    folder = str(root.resolve())
    con.execute(f"set variable {WORKSPACE_VARIABLE} = ?", [folder])
    con.execute("set file_search_path = ?", [folder if "," not in folder else ""])


def raw_shapes(root: Path) -> list[str]:
    """The record shapes the raw layer holds files of (its `shape=` folders under `root`)."""
    return sorted(
        folder.name.removeprefix("shape=")
        for folder in (root / RAW_FOLDER).glob("shape=*")
        if next(folder.glob("*/*/*.parquet"), None) is not None
    )


def define_raw_view(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """raw.source_rows over the raw layer's files under `root`: one branch per record shape
    (union all), so each file's record keeps exactly its own columns. Replaced only when the
    shapes on disk differ from the ones the view reads (or it reads them as views did before
    WORKSPACE_VARIABLE)."""
    shapes = raw_shapes(root)
    ((current,),) = con.execute(
        "select any_value(sql) from duckdb_views() where schema_name = 'raw' and view_name = 'source_rows'"
    ).fetchall()
    read = sorted(re.findall(r"raw/shape=(\w+)/", current or ""))
    # a view made before WORKSPACE_VARIABLE read its files through the search path: made again
    if read == shapes and (not shapes or WORKSPACE_VARIABLE in (current or "")):
        return
    con.execute("drop view if exists raw.source_rows")
    if shapes:
        branch = sql_text("warehouse", "raw_rows_shape")
        branches = [
            fill(
                branch,
                files=f"{RAW_FOLDER}/shape={shape}/*/*/*.parquet",
                workspace=WORKSPACE_VARIABLE,
                record_json="record::json" if shape == JSON_SHAPE else "to_json(record)",
            )
            for shape in shapes
        ]
        con.execute(fill(sql_text("warehouse", "raw_rows_view"), branches="\nunion all\n".join(branches)))
    con.execute(sql_text("raw", "source_rows"))  # the empty view when there are no files; the comments


def _raw_rows_out_of_the_database(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """An older warehouse kept raw rows in a table: write them out as the raw layer's files (as
    JSON text) and drop the table, once."""
    found = con.execute(
        "select 1 from duckdb_tables() where schema_name = 'raw' and table_name = 'source_rows'"
    ).fetchall()
    if not found:
        return
    folder = root / RAW_FOLDER / f"shape={JSON_SHAPE}"
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(fill(sql_text("warehouse", "raw_rows_from_table"), folder=str(folder).replace("'", "''")))
    con.execute("drop table raw.source_rows")


def first_row(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | None = None) -> tuple | None:
    """The first row of `query`, or None: read to the end, as `fetchone()` does not. DuckDB keeps
    a result that `fetchone()` left unfinished open on the connection, and a relation run after it
    there (`con.sql(...)`) then fails with "connection has an unfinished result"."""
    rows = con.execute(query, params).fetchall()
    return tuple(rows[0]) if rows else None


def insert_values(
    con: duckdb.DuckDBPyConnection, into: str, rows: Sequence[Sequence[Any]], *, row: str | None = None
) -> None:
    """Run `into` (`insert into <table> [(<columns>)]`) with the values of `rows`, many rows per
    statement: DuckDB's executemany runs one statement per row, about a millisecond each. `row`:
    one row's placeholders, when they cast (default `(?, ?, ...)`)."""
    if not rows:
        return
    row = row or "(" + ", ".join("?" for _ in rows[0]) + ")"
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start : start + ROWS_PER_INSERT]
        con.execute(f"{into} values {', '.join([row] * len(part))}", [value for r in part for value in r])


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any error: a step replaces its partition or does nothing."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    crash.point("commit")
    con.execute("commit")
    crash.point("committed")


def refresh_telemetry_days(con: duckdb.DuckDBPyConnection) -> None:
    """Bring ledger.telemetry_days up to date with the telemetry file versions staged: add up the
    samples of the versions it lacks, forget those gone. The build reads it to find the versions
    a window holds, validation to digest each day's samples, publish (marts.data_through) to know
    the days with samples."""
    con.execute(sql_text("ledger", "passes", "telemetry_days_refresh"))


def mark_pending(con: duckdb.DuckDBPyConnection, periods: set[str] | list[str]) -> None:
    """Record periods whose inputs changed; call inside the transaction that changes them."""
    for period in sorted(periods):
        con.execute(
            sql_text("warehouse", "pending_period"),
            {"period": period, "marked_at": datetime.now(UTC).replace(tzinfo=None)},
        )


def pending_periods(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Periods changed but not yet published (a run died, or validation stopped it)."""
    return {row[0] for row in con.execute("select period from meta.pending_periods").fetchall()}
