"""The DuckDB warehouse: open it, create its layers from `sql/`, and read it safely."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline.errors import CostLedgerError

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# Layer order: later layers read earlier ones.
LAYERS: tuple[str, ...] = ("meta", "raw", "staging", "ledger", "marts")


def sql_files() -> list[Path]:
    """Every table's DDL, in layer order, one file per table named after it."""
    files: list[Path] = []
    for layer in LAYERS:
        files.extend(sorted((SQL_DIR / layer).glob("*.sql")))
    return files


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema, table and view (idempotent)."""
    for layer in LAYERS:
        con.execute(f"create schema if not exists {layer}")
    for path in sql_files():
        con.execute(path.read_text())


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-write connection with every layer in place."""
    con = duckdb.connect(str(path))
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
            config={"enable_external_access": False, "autoinstall_known_extensions": False},
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
    con.execute("commit")
