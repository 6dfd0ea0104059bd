"""Loading the inbox: every new or changed file is detected from its content, parsed, and
written (raw rows, typed rows, quarantined rows, one meta.loads row) in one transaction."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.errors import CostLedgerError, InputError
from pipeline.ingest import billing, labor, telemetry
from pipeline.ingest.parse import ROW, Parsed, header_of, read_bytes
from pipeline.ingest.tables import BY_SOURCE
from pipeline.workspace import SOURCES, Workspace

log = logging.getLogger(__name__)

# staging table and the columns that date its rows (for the periods a load touches)
_DATED: dict[str, tuple[str, str]] = {
    "billing": ("billing", "x_BillingPeriod"),
    "telemetry": ("gpu_samples", "ts"),
    "charges": ("charges", "service_start"),
    "usage": ("usage", "usage_date"),
    "optimizations": ("optimizations", "action_date"),
    "milestones": ("milestones", "planned_date"),
    "fx": ("fx_rates", "rate_date"),
}


@dataclass
class IngestResult:
    periods: set[str] = field(default_factory=set)
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_file(ws: Workspace, source: str, path: Path, data: bytes) -> Parsed:
    """Detect the format from the content and parse it. Raises InputError for unreadable files."""
    if not data.strip():
        raise InputError("empty file: expected a header line and rows", path=path)
    if source == "telemetry":
        return telemetry.read(path, data, ws.config)
    if source == "billing":
        return billing.read(path, data)
    header = header_of(data, path)
    if source == "labor":
        if labor.detect(header) is None:
            raise InputError("unrecognised HR file: expected a people file (person_id, role, monthly_cost, currency) or an allocation file (month, person_id, model_id, percent)", path=path, row=0)
        return labor.read(path, model_ids=ws.config.model_ids, key=labor.pseudonym_key())
    table = BY_SOURCE[source]
    if not table.matches(header):
        required = [n for n, c in table.schema.items() if c.required]
        raise InputError(f"unrecognised {source} file: expected columns {required}, found {header}", path=path, row=0)
    return table.read(path)


def _periods(frame: pl.DataFrame, column: str) -> set[str]:
    if frame.is_empty():
        return set()
    values = frame.get_column(column)
    if values.dtype == pl.String:
        return set(values.drop_nulls().unique().to_list())
    return set(values.dt.strftime("%Y-%m").drop_nulls().unique().to_list())


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from _incoming")
    finally:
        con.unregister("_incoming")


def _staging_table(source: str) -> str:
    if source == "telemetry":
        return "staging.gpu_samples"
    if source == "billing":
        return "staging.billing"
    return f"staging.{BY_SOURCE[source].table}"


def ingest(ws: Workspace) -> IngestResult:
    result = IngestResult()
    with warehouse.connect(ws.warehouse) as con:
        for source in SOURCES:
            for path in ws.source_files(source):
                _load_one(ws, con, source, path, result)
        if any(load.startswith("labor-") for load in result.loaded):
            result.periods |= _rebuild_labor(ws, con)
    return result


def _load_one(ws: Workspace, con: duckdb.DuckDBPyConnection, source: str, path: Path, result: IngestResult) -> None:
    relative = path.relative_to(ws.inbox).as_posix()
    checksum = sha256(path.read_bytes())
    load_id = f"{source}-{checksum[:16]}"
    seen = con.execute("select status, path from meta.loads where load_id = ?", [load_id]).fetchone()
    if seen is not None and seen[0] != "rejected":
        result.skipped.append(relative)  # the same bytes again (maybe renamed): a no-op
        return
    earlier = [row[0] for row in con.execute(
        "select load_id from meta.loads where source = ? and path = ? and status = 'loaded' and load_id <> ?",
        [source, relative, load_id],
    ).fetchall()]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        parsed = parse_file(ws, source, path, read_bytes(path))
    except InputError as exc:
        _record_rejected(con, load_id, source, relative, checksum, str(exc), now)
        result.errors.append(str(exc))
        log.error("%s", exc)
        return
    if source == "labor":
        with labor.open_restricted(ws.restricted) as hr:
            labor.store(hr, load_id, parsed, earlier)
    periods = _periods(parsed.rows, _DATED[source][1]) if source in _DATED else set()
    with warehouse.transaction(con):
        for old in earlier:
            old_periods = con.execute("select periods from meta.loads where load_id = ?", [old]).fetchone()[0]
            result.periods |= set(old_periods or [])
            if source not in ("labor",):
                con.execute(f"delete from {_staging_table(source)} where load_id = ?", [old])
            con.execute("update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old])
        con.execute("delete from meta.loads where load_id = ?", [load_id])  # a retried rejected file
        con.execute("delete from meta.quarantine where load_id = ?", [load_id])
        con.execute("delete from raw.source_rows where load_id = ?", [load_id])
        if source != "labor":  # HR rows never enter the shared warehouse
            _insert(con, "raw.source_rows", parsed.raw.with_columns(pl.lit(load_id).alias("load_id"), pl.lit(source).alias("source")))
            staged = parsed.rows.rename({ROW: "row_number"}).with_columns(pl.lit(load_id).alias("load_id"))
            _insert(con, _staging_table(source), staged)
        quarantine = parsed.rejects.rename({ROW: "row_number"}).with_columns(pl.lit(load_id).alias("load_id"), pl.lit(relative).alias("path"))
        _insert(con, "meta.quarantine", quarantine)
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, null, ?, ?)",
            [load_id, source, relative, checksum, parsed.format, parsed.rows_in, parsed.rows_loaded,
             parsed.rows_quarantined, _message(parsed), sorted(periods), now],
        )
    staged_rows = parsed.rows.get_column(ROW).n_unique() if source != "labor" else parsed.rows.height
    if staged_rows > parsed.rows_loaded or parsed.rows_in != parsed.rows_loaded + parsed.rows_quarantined:
        raise CostLedgerError(f"{relative}: {parsed.rows_in} rows in but {parsed.rows_loaded} loaded + {parsed.rows_quarantined} quarantined")
    result.loaded.append(load_id)
    result.periods |= periods


def _message(parsed: Parsed) -> str:
    if parsed.rejects.is_empty():
        return f"{parsed.rows_loaded} rows loaded"
    return f"{parsed.rows_loaded} rows loaded, {parsed.rows_quarantined} quarantined (see meta.quarantine)"


def _record_rejected(con, load_id, source, relative, checksum, message, now) -> None:
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, null, 0, 0, 0, 'rejected', ?, null, [], ?)",
            [load_id, source, relative, checksum, message, now],
        )


def _rebuild_labor(ws: Workspace, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Replace staging.labor and staging.labor_totals with aggregates of the restricted tables."""
    with labor.open_restricted(ws.restricted) as hr:
        rows, totals = labor.aggregate(hr, k=ws.config.labor.k_anonymity)
    with warehouse.transaction(con):
        con.execute("delete from staging.labor")
        con.execute("delete from staging.labor_totals")
        _insert(con, "staging.labor", rows.with_columns(pl.lit("hr").alias("load_id")))
        _insert(con, "staging.labor_totals", totals.with_columns(pl.lit("hr").alias("load_id")))
    return set(totals.get_column("month").to_list())
