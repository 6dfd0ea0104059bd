"""Whether staging.labor and staging.labor_rates reflect the HR loads and labor settings they were
built from (meta.labor_build). Asked before every step that reads them, so it stays out of the
ingest package, whose parsers a step that rebuilds nothing need not import
(pipeline.ingest.labor_rebuild rebuilds them)."""

from __future__ import annotations

import hashlib

import duckdb

from pipeline.config import Config
from pipeline.warehouse import first_row


def labor_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """Which HR loads staging.labor must reflect: `hr-` + a hash of their load ids (None: none)."""
    ids = [
        row[0]
        for row in con.execute(
            "select load_id from meta.loads where source = 'labor' and status = 'loaded' order by load_id"
        ).fetchall()
    ]
    return "hr-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16] if ids else None


def stale(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """True when staging.labor was built from other HR loads or labor settings, or lost rows
    (e.g. a run died before rebuilding it, or a new version of its DDL replaced the table)."""
    version = labor_version(con)
    if version is None:
        return False
    built = first_row(con, "select version, labor_config, cells, rates from meta.labor_build")
    counts = first_row(con, "select (select count(*) from staging.labor), (select count(*) from staging.labor_rates)")
    return built is None or built[:2] != (version, config.labor.model_dump_json()) or tuple(built[2:]) != counts
