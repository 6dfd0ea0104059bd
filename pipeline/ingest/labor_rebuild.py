"""Rebuilding staging.labor after HR loads: labor at standard rates built in the restricted
database (pipeline.ingest.labor_standard), and the cells and rates that may be published copied
to the warehouse. Whether the build is stale (other HR loads or labor settings, or lost rows):
pipeline.labor_state."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.ingest import labor, labor_standard, writer
from pipeline.labor_state import labor_version
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
