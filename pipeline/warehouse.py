"""The DuckDB warehouse: open it, create its layers from `sql/`, and read it safely."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline import crash
from pipeline.errors import CostLedgerError

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# DuckDB's working memory; beyond it, sorts, joins and aggregations spill to <warehouse>.tmp/, so
# a month of any size runs in bounded memory. COSTLEDGER_DUCKDB_MEMORY overrides it (e.g. "8GB").
MEMORY_LIMIT = "2GB"
# Layer order: later layers read earlier ones.
LAYERS: tuple[str, ...] = ("meta", "raw", "staging", "ledger", "marts")


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


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema, table and view (idempotent). Skipped when the warehouse already has
    this exact set of DDL files (their digest is kept in meta.schema_digest): saves ~1 s a connect."""
    texts = [path.read_text() for path in sql_files()]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    try:
        if con.execute("select digest from meta.schema_digest").fetchone() == (digest,):
            return
    except duckdb.CatalogException:
        pass
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
    con = duckdb.connect(str(path), config={"memory_limit": os.environ.get("COSTLEDGER_DUCKDB_MEMORY", MEMORY_LIMIT)})
    con.execute("set enable_progress_bar = false")  # no bars drawn into CLI and task logs
    create_schema(con)
    return con


def connect_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A connection for ad-hoc SQL: read-only, and unable to touch files or the network."""
    if not Path(path).exists():
        raise CostLedgerError(f"{path}: no warehouse here; run `costledger run` first")
    try:
        return duckdb.connect(
            str(path),
            read_only=True,
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "lock_configuration": True,  # no SET can undo the above
            },
        )
    except duckdb.IOException as exc:
        raise CostLedgerError(f"{path}: cannot open the warehouse read-only: {exc}") from None


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
