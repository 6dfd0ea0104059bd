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

from pipeline import crash, warehouse
from pipeline.errors import CostLedgerError, InputError
from pipeline.ingest import billing, checks, labor, manifest, tables, telemetry
from pipeline.ingest import restate
from pipeline.ingest.parse import ROW, Parsed, header_of, read_bytes
from pipeline.workspace import SOURCES, Workspace

log = logging.getLogger(__name__)

# staging table -> the columns that date its rows: (first, last) day, for the periods a load touches
_DATED: dict[str, tuple[str, str]] = {
    "staging.billing": ("x_BillingPeriod", "x_BillingPeriod"),
    "staging.gpu_samples": ("ts", "ts"),
    "staging.charges": ("service_start", "service_end"),
    "staging.licences": ("term_start", "term_end"),
    "staging.invoices": ("billing_period", "billing_period"),
    "staging.usage": ("usage_date", "usage_date"),
    "staging.optimizations": ("action_date", "action_date"),
    "staging.milestones": ("planned_date", "actual_date"),
    "staging.fx_rates": ("rate_date", "rate_date"),
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
            raise InputError(
                "unrecognised HR file: expected people (person_id, role, currency, monthly_salary or monthly_cost), "
                "allocations (month, person_id, model_id, percent), timesheets (date, person_id, project, hours), "
                "projects (project, model_id) or training (date, person_id or cost_centre, amount, currency)",
                path=path, row=0,
            )
        return labor.read(path, config=ws.config)
    table = tables.find(source, header)
    if table is None:
        raise InputError(f"unrecognised {source} file: expected columns {tables.expected(source)}, found {header}", path=path, row=0)
    return table.read(path)


def _periods(frame: pl.DataFrame, first: str, last: str) -> set[str]:
    """Every month from the first to the last day of each row (a charge may span months)."""
    if frame.is_empty():
        return set()
    if frame.schema[first] == pl.String:
        return set(frame.get_column(first).drop_nulls().unique().to_list())
    spans = frame.select(
        pl.col(first).cast(pl.Date).alias("a"), pl.coalesce(pl.col(last), pl.col(first)).cast(pl.Date).alias("b")
    ).drop_nulls().unique()
    months = spans.select(pl.date_ranges(pl.col("a").dt.month_start(), pl.col("b").dt.month_start(), "1mo").alias("m")).explode("m")
    return set(months.get_column("m").dt.strftime("%Y-%m").drop_nulls().to_list())


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from _incoming")
    finally:
        con.unregister("_incoming")


def _staging_table(source: str, fmt: str | None) -> str:
    if source == "telemetry":
        return "staging.gpu_samples"
    if source == "billing":
        return "staging.billing"
    return f"staging.{tables.BY_FORMAT[fmt].table}"


def ingest(ws: Workspace) -> IngestResult:
    result = IngestResult()
    with warehouse.connect(ws.warehouse) as con:
        for source in SOURCES:
            files = ws.source_files(source)
            held = manifest.verdicts(files, ws.inbox) if source == "billing" else {}
            for path in files:
                crash.point("file")
                if not path.resolve().is_relative_to(ws.inbox.resolve()):
                    held[path] = manifest.Verdict("rejected", f"{path.relative_to(ws.inbox).as_posix()}: links outside the inbox; not read")
                if path in held:
                    _record_held(ws, con, source, path, held[path], result)
                else:
                    _load_one(ws, con, source, path, result)
        if any(load.startswith("labor-") for load in result.loaded) or _labor_stale(con):
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
        parsed = checks.apply(parse_file(ws, source, path, read_bytes(path)), source=source, path=path, config=ws.config)
    except InputError as exc:
        _record_rejected(con, load_id, source, relative, checksum, str(exc), now)
        result.errors.append(str(exc))
        log.error("%s", exc)
        return
    if source == "labor":
        with labor.open_restricted(ws.restricted) as hr:
            labor.store(hr, load_id, parsed, earlier)
    target = _staging_table(source, parsed.format) if source != "labor" else None
    periods = _periods(parsed.rows, *_DATED[target]) if target in _DATED else set()
    with warehouse.transaction(con):
        if source == "billing":  # a later export of the same (provider, account, period) replaces it
            result.periods |= restate.supersede(con, load_id, relative, parsed.rows, now)
        for old in earlier:
            old_periods = con.execute("select periods from meta.loads where load_id = ?", [old]).fetchone()[0]
            result.periods |= set(old_periods or [])
            if source not in ("labor",):
                old_format = con.execute("select detected_format from meta.loads where load_id = ?", [old]).fetchone()[0]
                con.execute(f"delete from {_staging_table(source, old_format)} where load_id = ?", [old])
            con.execute("update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old])
        con.execute("delete from meta.loads where load_id = ?", [load_id])  # a retried rejected file
        con.execute("delete from meta.quarantine where load_id = ?", [load_id])
        con.execute("delete from raw.source_rows where load_id = ?", [load_id])
        if source != "labor":  # HR rows never enter the shared warehouse
            _insert(con, "raw.source_rows", parsed.raw.with_columns(pl.lit(load_id).alias("load_id"), pl.lit(source).alias("source")))
            staged = parsed.rows.rename({ROW: "row_number"}).with_columns(pl.lit(load_id).alias("load_id"))
            _insert(con, target, staged)
        quarantine = parsed.rejects.rename({ROW: "row_number"}).with_columns(pl.lit(load_id).alias("load_id"), pl.lit(relative).alias("path"))
        _insert(con, "meta.quarantine", quarantine)
        warehouse.mark_pending(con, result.periods | periods)  # in this transaction: a crash after it still rebuilds them
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
        message = f"{parsed.rows_loaded} rows loaded"
    else:
        message = f"{parsed.rows_loaded} rows loaded, {parsed.rows_quarantined} quarantined (see meta.quarantine)"
    return "; ".join([message, *parsed.notes])


def _record_rejected(con, load_id, source, relative, checksum, message, now) -> None:
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, null, 0, 0, 0, 'rejected', ?, null, [], ?)",
            [load_id, source, relative, checksum, message, now],
        )


def _record_held(ws: Workspace, con: duckdb.DuckDBPyConnection, source: str, path: Path, verdict: manifest.Verdict, result: IngestResult) -> None:
    """A file recorded without being parsed: a billing manifest, a part of an incomplete
    multi-part export, or a link out of the inbox (its bytes are never read)."""
    relative = path.relative_to(ws.inbox).as_posix()
    inside = path.resolve().is_relative_to(ws.inbox.resolve())
    checksum = sha256(path.read_bytes() if inside else relative.encode())
    load_id = f"{source}-{checksum[:16]}"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if verdict.status == "rejected":
        seen = con.execute("select status from meta.loads where load_id = ?", [load_id]).fetchone()
        if seen is None or seen[0] == "rejected":  # never undo a part that loaded before
            _record_rejected(con, load_id, source, relative, checksum, verdict.message, now)
            result.errors.append(f"{relative}: {verdict.message}" if inside else verdict.message)
        return
    if con.execute("select 1 from meta.loads where load_id = ? and status = 'loaded'", [load_id]).fetchone():
        result.skipped.append(relative)
        return
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, ?, 0, 0, 0, 'loaded', ?, null, [], ?)",
            [load_id, source, relative, checksum, manifest.FORMAT, verdict.message, now],
        )


def _rebuild_labor(ws: Workspace, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Replace staging.labor and staging.labor_totals with aggregates of the restricted tables."""
    with labor.open_restricted(ws.restricted) as hr:
        rows, totals = labor.aggregate(hr, ws.config)
    months = set(totals.get_column("month").to_list())
    version = _labor_version(con) or "hr"
    with warehouse.transaction(con):
        con.execute("delete from staging.labor")
        con.execute("delete from staging.labor_totals")
        _insert(con, "staging.labor", rows.with_columns(pl.lit(version).alias("load_id")))
        _insert(con, "staging.labor_totals", totals.with_columns(pl.lit(version).alias("load_id")))
        warehouse.mark_pending(con, months)
    return months


def _labor_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """Which HR loads staging.labor must reflect: `hr-` + a hash of their load ids (None: none)."""
    ids = [row[0] for row in con.execute("select load_id from meta.loads where source = 'labor' and status = 'loaded' order by load_id").fetchall()]
    return "hr-" + sha256("\n".join(ids).encode())[:16] if ids else None


def _labor_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when staging.labor was built from other HR loads (e.g. a run died before rebuilding it)."""
    version = _labor_version(con)
    built = {row[0] for row in con.execute("select distinct load_id from staging.labor_totals").fetchall()}
    return version is not None and version not in built
