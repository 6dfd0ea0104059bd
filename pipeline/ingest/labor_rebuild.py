"""Rebuilding staging.labor after HR loads: labor at standard rates built in the restricted
database (pipeline.ingest.labor_standard), and the cells and rates that may be published copied
to the warehouse; and when the build is stale (other HR loads or labor settings, or lost rows)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.config import Config
from pipeline.ingest import (
    discover,
    labor,
    labor_standard,
    writer,
)
from pipeline.workspace import Workspace


def rebuild(ws: Workspace, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Rebuild labor at standard rates in the restricted database, and replace staging.labor and
    staging.labor_rates with what of it may be published (pipeline.ingest.labor_standard)."""
    version = labor_version(con) or "hr"
    with labor.open_restricted(ws.restricted) as hr:
        built = labor_standard.build(hr, ws.config, version=version)
    now = datetime.now(UTC).replace(tzinfo=None)
    with warehouse.transaction(con):
        con.execute("delete from staging.labor")
        con.execute("delete from staging.labor_rates")
        writer.insert_frame(con, "staging.labor", built.cells.with_columns(pl.lit(version).alias("load_id")))
        writer.insert_frame(con, "staging.labor_rates", built.rates.with_columns(pl.lit(version).alias("load_id")))
        con.execute("delete from meta.labor_build")
        settings = ws.config.labor
        con.execute(
            "insert into meta.labor_build values (?, ?, ?, ?, ?, ?)",
            [version, settings.model_dump_json(), settings.k_anonymity, built.cells.height, built.rates.height, now],
        )
        warehouse.mark_pending(con, set(built.months))
    return set(built.months)


def ensure_current(ws: Workspace, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Rebuild staging.labor and staging.labor_rates when they are stale (see `stale`), so a step
    that reads them sees them whole even when no ingest ran first (e.g. after a new version of
    their DDL replaced them); return the months rebuilt (none when they were current)."""
    return rebuild(ws, con) if stale(con, ws.config) else set()


def labor_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """Which HR loads staging.labor must reflect: `hr-` + a hash of their load ids (None: none)."""
    ids = [
        row[0]
        for row in con.execute(
            "select load_id from meta.loads where source = 'labor' and status = 'loaded' order by load_id"
        ).fetchall()
    ]
    return "hr-" + discover.sha256("\n".join(ids).encode())[:16] if ids else None


def stale(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """True when staging.labor was built from other HR loads or labor settings, or lost rows
    (e.g. a run died before rebuilding it, or a new version of its DDL replaced the table)."""
    version = labor_version(con)
    if version is None:
        return False
    built = con.execute("select version, labor_config, cells, rates from meta.labor_build").fetchone()
    counts = con.execute(
        "select (select count(*) from staging.labor), (select count(*) from staging.labor_rates)"
    ).fetchone()
    return built is None or built[:2] != (version, config.labor.model_dump_json()) or tuple(built[2:]) != counts
