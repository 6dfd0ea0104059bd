"""Loading the inbox: every new or changed file is detected from its content, parsed, and
written (raw rows, typed rows, quarantined rows, one meta.loads row) in one transaction.
The parse can run ahead, one process per file (`pending` lists the files, `stage` parses one
into a bundle; see pipeline.ingest.bundle); `ingest`, the one writer, loads the bundles."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipeline import crash, warehouse
from pipeline.config import Config
from pipeline.errors import CostLedgerError, InputError
from pipeline.ingest import billing, bundle, checks, labor, labor_standard, manifest, tables, telemetry
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
        return billing.read(path, data, dates=ws.config.dates.billing)
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
    return table.read(path, dates=getattr(ws.config.dates, source))


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
    """The one writer: load every new or changed file, from its parsed bundle when the parse
    step left a valid one (see pipeline.ingest.bundle), else parsing it here."""
    result = IngestResult()
    started = time.time()
    with warehouse.connect(ws.warehouse) as con:
        for source in SOURCES:
            files = ws.source_files(source)
            held = manifest.verdicts(files, ws.inbox) if source == "billing" else {}
            for path in files:
                crash.point("file")
                if source == "labor":
                    _warn_if_readable(ws, path)
                if not path.resolve().is_relative_to(ws.inbox.resolve()):
                    held[path] = manifest.Verdict("rejected", f"{path.relative_to(ws.inbox).as_posix()}: links outside the inbox; not read")
                if path in held:
                    _record_held(ws, con, source, path, held[path], result)
                else:
                    _load_one(ws, con, source, path, result)
        if any(load.startswith("labor-") for load in result.loaded) or _labor_stale(con, ws.config):
            result.periods |= _rebuild_labor(ws, con)
    bundle.sweep(ws, before=started)  # bundles this writer could have used are spent or stale
    return result


def pending(workspace: Path | str | Workspace) -> list[dict]:
    """The files the writer would parse, for the parse step: new or changed (or rejected
    before), not held back by a billing manifest, not HR (parsed only by the writer). Opens the
    warehouse read-only; the writer still decides what loads."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    loaded: set[str] = set()
    if ws.warehouse.exists():
        with duckdb.connect(str(ws.warehouse), read_only=True) as con:
            try:
                loaded = {row[0] for row in con.execute("select load_id from meta.loads where status <> 'rejected'").fetchall()}
            except duckdb.CatalogException:  # created but never loaded into
                pass
    found = []
    for source in SOURCES:
        if source in bundle.NOT_STAGED:
            continue
        files = ws.source_files(source)
        held = manifest.verdicts(files, ws.inbox) if source == "billing" else {}
        for path in files:
            if path in held or not path.resolve().is_relative_to(ws.inbox.resolve()):
                continue
            checksum = sha256(path.read_bytes())
            if f"{source}-{checksum[:16]}" not in loaded:
                found.append({"source": source, "path": path.relative_to(ws.inbox).as_posix(), "checksum": checksum})
    return found


def stage(workspace: Path | str | Workspace, source: str, relative: str) -> dict:
    """The parse step: parse and check one inbox file and stage the result as a bundle for the
    writer (a rejected file too, with its message). Never opens the warehouse."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if source in bundle.NOT_STAGED:
        raise CostLedgerError(f"{relative}: {source} files are parsed only by the writer (their rows stay in the restricted database)")
    path = ws.inbox / relative
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # removed since it was listed: nothing for the writer either
        return {"load_id": None, "status": "gone"}
    checksum = sha256(data)
    load_id = f"{source}-{checksum[:16]}"
    parsed, error, rejects = None, None, None
    try:
        parsed = _parse_checked(ws, source, path, data)
    except InputError as exc:
        error, rejects = str(exc), getattr(exc, "rejects", None)
    if sha256(path.read_bytes()) != checksum:  # replaced while being read: the writer parses it
        return {"load_id": load_id, "status": "changed"}
    periods = _staged_periods(source, parsed) if parsed is not None else set()
    bundle.write(ws, load_id, source=source, relative=relative, checksum=checksum, parsed=parsed,
                 periods=periods, error=error, rejects=rejects)
    return {"load_id": load_id, "status": "rejected" if error else "parsed"}


def _parse_checked(ws: Workspace, source: str, path: Path, data: bytes) -> Parsed:
    """Parse and check a file from `data`, the bytes its checksum was taken of (read once)."""
    return checks.apply(parse_file(ws, source, path, read_bytes(path, data)), source=source, path=path, config=ws.config)


def _staged_periods(source: str, parsed: Parsed) -> set[str]:
    target = _staging_table(source, parsed.format) if source != "labor" else None
    return _periods(parsed.rows, *_DATED[target]) if target in _DATED else set()


def _load_one(ws: Workspace, con: duckdb.DuckDBPyConnection, source: str, path: Path, result: IngestResult) -> None:
    relative = path.relative_to(ws.inbox).as_posix()
    data = path.read_bytes()
    checksum = sha256(data)
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
    staged = bundle.find(ws, load_id, checksum) if source not in bundle.NOT_STAGED else None
    if staged is not None and staged.error:
        _record_rejected(con, load_id, source, relative, checksum, staged.error, now, staged.rejects())
        result.errors.append(staged.error)
        log.error("%s", staged.error)
        bundle.discard(staged)
        return
    if staged is not None:
        parsed = _Staged.of_bundle(staged)
    else:
        try:
            parsed = _Staged.of_parsed(_parse_checked(ws, source, path, data), source)
        except InputError as exc:
            _record_rejected(con, load_id, source, relative, checksum, str(exc), now, getattr(exc, "rejects", None))
            result.errors.append(str(exc))
            log.error("%s", exc)
            return
    if source == "labor":
        with labor.open_restricted(ws.restricted) as hr:
            labor.store(hr, load_id, parsed.parsed, earlier)
    target = _staging_table(source, parsed.format) if source != "labor" else None
    periods = parsed.periods
    with warehouse.transaction(con):
        if source == "billing":  # a later export of the same (provider, account, period) replaces it
            result.periods |= restate.supersede(con, load_id, relative, parsed.billing_totals(), now)
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
            parsed.insert(con, "raw.source_rows", "raw", load_id=load_id, source=source)
            parsed.insert(con, target, "rows", load_id=load_id)
        parsed.insert(con, "meta.quarantine", "rejects", load_id=load_id, path=relative)
        warehouse.mark_pending(con, result.periods | periods)  # in this transaction: a crash after it still rebuilds them
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, null, ?, ?)",
            [load_id, source, relative, checksum, parsed.format, parsed.rows_in, parsed.rows_loaded,
             parsed.rows_quarantined, _message(parsed), sorted(periods), now],
        )
    if staged is not None:
        bundle.discard(staged)  # committed: the work folder does not grow
    if parsed.staged_rows > parsed.rows_loaded or parsed.rows_in != parsed.rows_loaded + parsed.rows_quarantined:
        raise CostLedgerError(f"{relative}: {parsed.rows_in} rows in but {parsed.rows_loaded} loaded + {parsed.rows_quarantined} quarantined")
    result.loaded.append(load_id)
    result.periods |= periods


@dataclass
class _Staged:
    """One file's parse as the writer inserts it: frames parsed in this process, or the Parquet
    files of a bundle (read by DuckDB straight into the warehouse, never through Python)."""

    format: str | None
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    notes: list[str]
    periods: set[str]
    staged_rows: int  # distinct input rows that reached staging (HR: rows stored)
    parsed: Parsed | None = None
    on_disk: bundle.Bundle | None = None

    @classmethod
    def of_parsed(cls, parsed: Parsed, source: str) -> _Staged:
        staged_rows = parsed.rows.get_column(ROW).n_unique() if source != "labor" else parsed.rows.height
        return cls(parsed.format, parsed.rows_in, parsed.rows_loaded, parsed.rows_quarantined, list(parsed.notes),
                   _staged_periods(source, parsed), staged_rows, parsed=parsed)

    @classmethod
    def of_bundle(cls, found: bundle.Bundle) -> _Staged:
        m = found.meta
        return cls(m["format"], m["rows_in"], m["rows_loaded"], m["rows_quarantined"], m["notes"], set(m["periods"]),
                   m["staged_rows"], on_disk=found)

    def insert(self, con: duckdb.DuckDBPyConnection, table: str, part: str, **constants: str) -> None:
        """insert into `table` the part's rows (rows, raw or rejects) plus constant text columns."""
        extra = "".join(f", ?::varchar as {name}" for name in constants)
        if self.on_disk is not None:
            con.execute(f"insert into {table} by name select *{extra} from read_parquet(?)", [*constants.values(), str(self.on_disk.part(part))])
            return
        con.register("_incoming", getattr(self.parsed, part).to_arrow())
        try:
            con.execute(f"insert into {table} by name select *{extra} from _incoming", list(constants.values()))
        finally:
            con.unregister("_incoming")

    def billing_totals(self) -> pl.DataFrame:
        """The columns a restatement compares (keys, currency, costs)."""
        columns = [*restate.KEY, "BillingCurrency", "BilledCost", "EffectiveCost"]
        if self.on_disk is not None:
            return pl.read_parquet(self.on_disk.part("rows"), columns=columns)
        return self.parsed.rows.select(columns)


def _message(parsed: _Staged) -> str:
    if not parsed.rows_quarantined:
        message = f"{parsed.rows_loaded} rows loaded"
    else:
        message = f"{parsed.rows_loaded} rows loaded, {parsed.rows_quarantined} quarantined (see meta.quarantine)"
    return "; ".join([message, *parsed.notes])


def _record_rejected(con, load_id, source, relative, checksum, message, now, rejects: pl.DataFrame | None = None) -> None:
    """A rejected file: its meta.loads row and, when it was rejected for its bad rows, every row
    in meta.quarantine (rows in = 0 loaded + rows quarantined; see checks.whole_file)."""
    rows = 0 if rejects is None else rejects.get_column(ROW).n_unique()
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute("delete from meta.quarantine where load_id = ?", [load_id])
        if rows:
            _insert(con, "meta.quarantine", rejects.rename({ROW: "row_number"}).with_columns(pl.lit(load_id).alias("load_id"), pl.lit(relative).alias("path")))
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, null, ?, 0, ?, 'rejected', ?, null, [], ?)",
            [load_id, source, relative, checksum, rows, rows, message, now],
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


def _warn_if_readable(ws: Workspace, path: Path) -> None:
    """HR files hold names and pay: say so, one line, when one is readable beyond its owner."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o044:
        log.warning(
            "%s is readable by group or others (mode %03o): HR files hold pay; "
            "make them owner-only (chmod 600, and 700 on the folder)",
            path.relative_to(ws.inbox).as_posix(), mode,
        )


def _rebuild_labor(ws: Workspace, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Rebuild labor at standard rates in the restricted database, and replace staging.labor and
    staging.labor_rates with what of it may be published (pipeline.ingest.labor_standard)."""
    version = _labor_version(con) or "hr"
    with labor.open_restricted(ws.restricted) as hr:
        built = labor_standard.build(hr, ws.config, version=version)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with warehouse.transaction(con):
        con.execute("delete from staging.labor")
        con.execute("delete from staging.labor_rates")
        _insert(con, "staging.labor", built.cells.with_columns(pl.lit(version).alias("load_id")))
        _insert(con, "staging.labor_rates", built.rates.with_columns(pl.lit(version).alias("load_id")))
        con.execute("delete from meta.labor_build")
        settings = ws.config.labor
        con.execute(
            "insert into meta.labor_build values (?, ?, ?, ?, ?, ?)",
            [version, settings.model_dump_json(), settings.k_anonymity, built.cells.height, built.rates.height, now],
        )
        warehouse.mark_pending(con, set(built.months))
    return set(built.months)


def _labor_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """Which HR loads staging.labor must reflect: `hr-` + a hash of their load ids (None: none)."""
    ids = [row[0] for row in con.execute("select load_id from meta.loads where source = 'labor' and status = 'loaded' order by load_id").fetchall()]
    return "hr-" + sha256("\n".join(ids).encode())[:16] if ids else None


def _labor_stale(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """True when staging.labor was built from other HR loads or labor settings, or lost rows
    (e.g. a run died before rebuilding it, or a new version of its DDL replaced the table)."""
    version = _labor_version(con)
    if version is None:
        return False
    built = con.execute("select version, labor_config, cells, rates from meta.labor_build").fetchone()
    counts = con.execute(
        "select (select count(*) from staging.labor), (select count(*) from staging.labor_rates)"
    ).fetchone()
    return built is None or built[:2] != (version, config.labor.model_dump_json()) or tuple(built[2:]) != counts
