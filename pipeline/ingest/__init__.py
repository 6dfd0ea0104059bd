"""Loading the inbox: every new or changed file is detected from its content, parsed, and
written (raw rows, typed rows, quarantined rows, one meta.loads row) in one transaction.
The parse can run ahead, one process per file (`pending` lists the files, `stage` parses one
into a bundle; see pipeline.ingest.bundle); `ingest`, the one writer, loads the bundles.

Each file is its own unit: whatever goes wrong while reading, parsing or writing one file (a
parser's exception, a limit of pipeline.ingest.limits, a DuckDB error in its transaction, which is
rolled back) rejects that file, with one message naming it and the cause, and the other files
load. Only a failure of the warehouse itself (its disk, its database file) stops the writer.

A file is read only once it has settled: a file modified less than the settle time ago
(`[ingest] settle_seconds`, default 60; COSTLEDGER_SETTLE_SECONDS and `costledger run
--settle-seconds` override it) may still be being written, and so may one whose size or bytes
change while it is read; either is skipped with a note and read by a later run. Files the pull
landed (recorded in their folder's `.pulled.json`) are complete when they appear and need no
wait. A part of a multi-part export waits while any part of it has not settled."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipeline import crash, pull, warehouse
from pipeline.config import Config
from pipeline.errors import ConfigError, CostLedgerError, InputError
from pipeline.ingest import (
    billing,
    bundle,
    checks,
    chunked,
    labor,
    labor_standard,
    limits,
    manifest,
    restate,
    tables,
    telemetry,
)
from pipeline.ingest.parse import ROW, Parsed, header_of, read_bytes
from pipeline.ingest.telemetry import stream as telemetry_stream
from pipeline.progress import Progress, count
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


SETTLE_ENV = "COSTLEDGER_SETTLE_SECONDS"
# Errors of the warehouse itself, not of the file being loaded: they stop the writer.
_WAREHOUSE_ERRORS = (duckdb.IOException, duckdb.FatalException, duckdb.InterruptException, duckdb.TransactionException)


@dataclass
class IngestResult:
    periods: set[str] = field(default_factory=set)
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # notes on files left for a later run (not settled)
    causes: list[BaseException] = field(default_factory=list)  # what raised behind errors that are not InputErrors
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # file loaded -> (rows loaded, quarantined)

    def mark(self) -> tuple[int, int, int, int]:
        """Where the lists stand, to tell what became of the next file (see `outcome`)."""
        return len(self.loaded), len(self.errors), len(self.waiting), len(self.skipped)

    def outcome(self, relative: str, mark: tuple[int, int, int, int]) -> str:
        """What became of the file at `relative` since `mark`, as a progress line."""
        loaded, errors, waiting, skipped = mark
        if len(self.loaded) > loaded:
            rows, quarantined = self.rows.get(relative, (0, 0))
            return f"{relative}: {count(rows, 'row')} loaded" + (
                f", {quarantined:,} quarantined" if quarantined else ""
            )
        if len(self.errors) > errors:
            return f"{relative}: rejected"
        if len(self.waiting) > waiting:
            return f"{relative}: waiting until it has settled"
        if len(self.skipped) > skipped:
            return f"{relative}: unchanged, already loaded"
        return f"{relative}: recorded"

    @property
    def rows_loaded(self) -> int:
        return sum(rows for rows, _ in self.rows.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(quarantined for _, quarantined in self.rows.values())


def settle_time(ws: Workspace, override: float | None = None) -> float:
    """How long a file must rest unmodified before it is read: `override` (`run --settle-seconds`),
    else COSTLEDGER_SETTLE_SECONDS, else the config's `ingest.settle_seconds`."""
    if override is not None:
        if not (override >= 0 and math.isfinite(override)):
            raise CostLedgerError(f"--settle-seconds {override}: expected a number of seconds, 0 or more")
        return override
    text = os.environ.get(SETTLE_ENV, "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not (value >= 0 and math.isfinite(value)):
            raise ConfigError(f"{SETTLE_ENV}={text!r}: expected a number of seconds, 0 or more")
        return value
    return ws.config.ingest.settle_seconds


def _unsettled(path: Path, relative: str, settle: float, now: float) -> str | None:
    """A note when the file was modified within the settle time (it may still be being written)."""
    if settle <= 0:
        return None
    try:
        age = now - path.stat().st_mtime
    except FileNotFoundError:  # removed since it was listed: the loader skips it
        return None
    if abs(age) >= settle or pull.landed(path):
        return None
    return (
        f"{relative}: modified {max(age, 0):.0f} s ago, within the settle time of {settle:g} s (it may still be "
        "being written); skipped, it loads on a later run (to load it now: costledger run --settle-seconds 0)"
    )


def _moved(relative: str, exc: limits.Moved) -> str:
    return f"{relative}: {exc}; skipped, it loads on a later run once it has settled"


def _wait(result: IngestResult, note: str) -> None:
    result.waiting.append(note)
    log.warning("%s", note)


def _scan(ws: Workspace, source: str, path: Path) -> limits.Scan:
    """The file's checksum and limits, in one streaming pass (see pipeline.ingest.limits)."""
    return limits.scan(
        path, limits.Limits.of(ws.config.ingest, source), csv=source != "telemetry", json_document=source == "telemetry"
    )


def _read_scanned(path: Path, scanned: limits.Scan) -> bytes:
    """The file's bytes for the parser: exactly the bytes scanned, else Moved."""
    data = path.read_bytes()
    if len(data) != scanned.size or sha256(data) != scanned.checksum:
        raise limits.Moved(f"changed while it was read ({scanned.size:,} bytes, then {len(data):,})")
    return data


def rejection(exc: Exception, path: Path | str) -> InputError:
    """The one-line message of a file that could not be read: an InputError as it is; anything
    else keeps its type (a bug stays visible; `costledger --debug` shows the traceback)."""
    if isinstance(exc, InputError):
        return exc
    detail = (str(exc).strip().splitlines() or [""])[0][:300]
    error = InputError(
        f"could not be loaded ({type(exc).__name__}{': ' + detail if detail else ''}); nothing of it was loaded",
        path=path,
    )
    error.__cause__ = exc
    return error


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
                path=path,
                row=0,
            )
        return labor.read(path, config=ws.config, data=data)
    table = tables.find(source, header)
    if table is None:
        raise InputError(
            f"unrecognised {source} file: expected columns {tables.expected(source)}, found {header}", path=path, row=0
        )
    return table.read(path, data, dates=getattr(ws.config.dates, source, "auto"))  # budgets: months only


def _periods(frame: pl.DataFrame, first: str, last: str) -> set[str]:
    """Every month from the first to the last day of each row (a charge may span months)."""
    if frame.is_empty():
        return set()
    if frame.schema[first] == pl.String:
        return set(frame.get_column(first).drop_nulls().unique().to_list())
    spans = (
        frame.select(
            pl.col(first).cast(pl.Date).alias("a"), pl.coalesce(pl.col(last), pl.col(first)).cast(pl.Date).alias("b")
        )
        .drop_nulls()
        .unique()
    )
    months = spans.select(
        pl.date_ranges(pl.col("a").dt.month_start(), pl.col("b").dt.month_start(), "1mo").alias("m")
    ).explode("m")
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


def ingest(ws: Workspace, *, settle_seconds: float | None = None, progress: Progress | None = None) -> IngestResult:
    """The one writer: load every new or changed file that has settled, from its parsed bundle
    when the parse step left a valid one (see pipeline.ingest.bundle), else parsing it here.
    Each file's outcome is a line of `progress` (by default logged)."""
    result = IngestResult()
    progress = progress or Progress()
    started = time.time()
    settle = settle_time(ws, settle_seconds)
    with warehouse.connect(ws.warehouse) as con:
        listing = [(source, ws.source_files(source)) for source in SOURCES]
        progress.phase("loading inbox files", sum(len(files) for _, files in listing))
        for source, files in listing:
            held = manifest.verdicts(files, ws.inbox) if source == "billing" else {}
            exports = manifest.exports(files) if source == "billing" else {}
            for path in files:
                mark = result.mark()
                _ingest_file(ws, con, source, path, result, held=held, exports=exports, settle=settle, started=started)
                progress.item(result.outcome(path.relative_to(ws.inbox).as_posix(), mark))
        if any(load.startswith("labor-") for load in result.loaded) or _labor_stale(con, ws.config):
            result.periods |= _rebuild_labor(ws, con)
    bundle.sweep(ws, before=started)  # bundles this writer could have used are spent or stale
    return result


def _ingest_file(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    result: IngestResult,
    *,
    held: dict,
    exports: dict,
    settle: float,
    started: float,
) -> None:
    """Load one inbox file, record it as held, or leave it to settle."""
    crash.point("file")
    if source == "labor":
        _warn_if_readable(ws, path)
    if not path.resolve().is_relative_to(ws.inbox.resolve()):
        held[path] = manifest.Verdict(
            "rejected", f"{path.relative_to(ws.inbox).as_posix()}: links outside the inbox; not read"
        )
    if path in held:
        _record_held(ws, con, source, path, held[path], result)
        return
    note = _unsettled_export(ws, path, exports.get(path), settle, started)
    if note is not None:
        _wait(result, note)
        return
    parts = (
        frozenset(p.relative_to(ws.inbox).as_posix() for p in exports[path].parts if p != path)
        if path in exports
        else frozenset()
    )
    _load_one(ws, con, source, path, result, parts=parts)


def _unsettled_export(
    ws: Workspace, path: Path, export: manifest.Export | None, settle: float, now: float
) -> str | None:
    """The settle note of a file, or of the first unsettled part of the multi-part export it
    belongs to (an export loads whole or waits)."""
    relative = path.relative_to(ws.inbox).as_posix()
    note = _unsettled(path, relative, settle, now)
    if note is not None or export is None:
        return note
    for part in export.parts:
        if part != path and (other := _unsettled(part, part.relative_to(ws.inbox).as_posix(), settle, now)) is not None:
            return (
                f"{relative}: part of the export {export.manifest.relative_to(ws.inbox).as_posix()}, whose part {other}"
            )
    return None


def pending(workspace: Path | str | Workspace, *, settle_seconds: float | None = None) -> list[dict]:
    """The files the writer would parse, for the parse step: new or changed (or rejected
    before), settled, not held back by a billing manifest, not HR (parsed only by the writer).
    Opens the warehouse read-only; the writer still decides what loads."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    settle = settle_time(ws, settle_seconds)
    now = time.time()
    loaded: set[str] = set()
    if ws.warehouse.exists():
        with duckdb.connect(str(ws.warehouse), read_only=True) as con:
            try:
                loaded = {
                    row[0]
                    for row in con.execute("select load_id from meta.loads where status <> 'rejected'").fetchall()
                }
            except duckdb.CatalogException:  # created but never loaded into
                pass
    found = []
    for source in SOURCES:
        if source in bundle.NOT_STAGED:
            continue
        files = ws.source_files(source)
        held = manifest.verdicts(files, ws.inbox) if source == "billing" else {}
        exports = manifest.exports(files) if source == "billing" else {}
        for path in files:
            if path in held or not path.resolve().is_relative_to(ws.inbox.resolve()):
                continue
            if _unsettled_export(ws, path, exports.get(path), settle, now) is not None:
                continue  # the writer notes it and leaves it for a later run
            checksum = limits.checksum(path)
            if f"{source}-{checksum[:16]}" not in loaded:
                found.append({"source": source, "path": path.relative_to(ws.inbox).as_posix(), "checksum": checksum})
    return found


def stage(workspace: Path | str | Workspace, source: str, relative: str) -> dict:
    """The parse step: check, parse and stage one inbox file as a bundle for the writer (a
    rejected file too, with its message). Never opens the warehouse. A file that changes while it
    is read stages nothing (status `changed`): the writer sees it as it is then."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if source in bundle.NOT_STAGED:
        raise CostLedgerError(
            f"{relative}: {source} files are parsed only by the writer (their rows stay in the restricted database)"
        )
    path = ws.inbox / relative
    try:
        scanned = _scan(ws, source, path)
    except FileNotFoundError:  # removed since it was listed: nothing for the writer either
        return {"load_id": None, "status": "gone"}
    except limits.Moved:
        return {"load_id": None, "status": "changed"}
    except OSError:  # unreadable here: the writer records it
        return {"load_id": None, "status": "unreadable"}
    load_id = f"{source}-{scanned.checksum[:16]}"
    parsed, error, rejects = None, None, None
    if scanned.problem is not None:
        error = str(InputError(scanned.problem, path=path))
    else:
        try:
            if streamed := _streamed(ws, source, path, scanned):  # staged a chunk at a time, as the bundle itself
                streamed(ws, source, path, scanned, load_id=load_id, relative=relative)
                return {"load_id": load_id, "status": "parsed"}
            parsed = _parse_checked(ws, source, path, _read_scanned(path, scanned))
        except limits.Moved:
            return {"load_id": load_id, "status": "changed"}
        except Exception as exc:  # noqa: BLE001 - whatever one file raises rejects that file only
            if not isinstance(exc, InputError):  # in the parse task's log, with where it was raised
                log.error("%s: could not be read", relative, exc_info=exc)
            error, rejects = str(rejection(exc, path)), getattr(exc, "rejects", None)
    periods = _staged_periods(source, parsed) if parsed is not None else set()
    bundle.write(
        ws,
        load_id,
        source=source,
        relative=relative,
        checksum=scanned.checksum,
        parsed=parsed,
        periods=periods,
        error=error,
        rejects=rejects,
    )
    return {"load_id": load_id, "status": "rejected" if error else "parsed"}


def _streamed(ws: Workspace, source: str, path: Path, scanned: limits.Scan) -> Callable[..., bundle.Bundle] | None:
    """How a file too large to parse whole is parsed a chunk at a time (None: it is parsed whole)."""
    if telemetry_stream.wanted(ws, source, path, scanned):
        return telemetry_stream.stage
    return chunked.stage if chunked.wanted(ws, source, scanned) else None


def _parse_checked(ws: Workspace, source: str, path: Path, data: bytes) -> Parsed:
    """Parse and check a file from `data`, the bytes its checksum was taken of (read once)."""
    return checks.apply(
        parse_file(ws, source, path, read_bytes(path, data)), source=source, path=path, config=ws.config
    )


def _staged_periods(source: str, parsed: Parsed) -> set[str]:
    target = _staging_table(source, parsed.format) if source != "labor" else None
    return _periods(parsed.rows, *_DATED[target]) if target in _DATED else set()


def _load_one(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    result: IngestResult,
    *,
    parts: frozenset[str] = frozenset(),
) -> None:
    """Load one settled file in one transaction, or record it as rejected; never raise for what
    is wrong with the file. `parts`: the other files of the multi-part export it belongs to."""
    relative = path.relative_to(ws.inbox).as_posix()
    try:
        scanned = _scan(ws, source, path)
    except limits.Moved as exc:
        _wait(result, _moved(relative, exc))
        return
    except FileNotFoundError:  # removed since it was listed: nothing to load
        return
    except OSError as exc:  # unreadable (permissions, an I/O error): rejected under its path's id
        scanned = limits.Scan(
            sha256(relative.encode()), 0, 0, f"could not be read ({type(exc).__name__}: {exc.strerror or exc})"
        )
    checksum = scanned.checksum
    load_id = f"{source}-{checksum[:16]}"
    seen = con.execute("select status, path from meta.loads where load_id = ?", [load_id]).fetchone()
    if seen is not None and seen[0] != "rejected":
        result.skipped.append(relative)  # the same bytes again (maybe renamed): a no-op
        return
    now = datetime.now(UTC).replace(tzinfo=None)

    def reject(exc: Exception) -> None:
        error = rejection(exc, path)
        _record_rejected(con, load_id, source, relative, checksum, str(error), now, getattr(exc, "rejects", None))
        result.errors.append(str(error))
        if error.__cause__ is not None:
            result.causes.append(error.__cause__)
        log.error("%s", error)
        if error.__cause__ is not None:
            log.debug("%s: what was raised", relative, exc_info=error.__cause__)

    if scanned.problem is not None:
        reject(InputError(scanned.problem, path=path))
        return
    staged = bundle.find(ws, load_id, checksum) if source not in bundle.NOT_STAGED else None
    if staged is not None and staged.error:
        _record_rejected(con, load_id, source, relative, checksum, staged.error, now, staged.rejects())
        result.errors.append(staged.error)
        log.error("%s", staged.error)
        bundle.discard(staged)
        return
    made_here = False  # a bundle this writer staged (a large file parsed in chunks): never left behind
    if staged is not None:
        parsed = _Staged.of_bundle(staged)
    else:
        try:
            if streamed := _streamed(ws, source, path, scanned):
                staged = streamed(ws, source, path, scanned, load_id=load_id, relative=relative)
                made_here = True
                parsed = _Staged.of_bundle(staged)
            else:
                parsed = _Staged.of_parsed(_parse_checked(ws, source, path, _read_scanned(path, scanned)), source)
        except limits.Moved as exc:
            _wait(result, _moved(relative, exc))
            return
        except Exception as exc:  # noqa: BLE001 - whatever one file raises rejects that file only
            reject(exc)
            return
    try:
        _write(ws, con, source, relative, load_id, checksum, parsed, now, result, parts)
    except _WAREHOUSE_ERRORS:
        if made_here and staged is not None:
            bundle.discard(staged)
        raise
    except Exception as exc:  # noqa: BLE001 - its transaction was rolled back; the file is rejected
        if made_here and staged is not None:
            bundle.discard(staged)
        reject(exc)
        return
    if staged is not None:
        bundle.discard(staged)  # committed: the work folder does not grow
    if parsed.staged_rows > parsed.rows_loaded or parsed.rows_in != parsed.rows_loaded + parsed.rows_quarantined:
        raise CostLedgerError(
            f"{relative}: {parsed.rows_in} rows in but {parsed.rows_loaded} loaded + {parsed.rows_quarantined} "
            "quarantined"
        )
    result.loaded.append(load_id)
    result.rows[relative] = (parsed.rows_loaded, parsed.rows_quarantined)
    result.periods |= parsed.periods


def _write(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    relative: str,
    load_id: str,
    checksum: str,
    parsed: _Staged,
    now: datetime,
    result: IngestResult,
    parts: frozenset[str],
) -> None:
    """One file's rows, quarantine and meta.loads row, in one transaction (HR rows go to the
    restricted database first, and are dropped again if the transaction fails)."""
    earlier = [
        row[0]
        for row in con.execute(
            "select load_id from meta.loads where source = ? and path = ? and status = 'loaded' and load_id <> ?",
            [source, relative, load_id],
        ).fetchall()
    ]
    if source == "labor":
        with labor.open_restricted(ws.restricted) as hr:
            labor.store(hr, load_id, parsed.parsed, earlier)
    target = _staging_table(source, parsed.format) if source != "labor" else None
    touched: set[str] = set()
    try:
        with warehouse.transaction(con):
            con.execute("delete from meta.loads where load_id = ?", [load_id])  # a retried rejected file
            con.execute("delete from meta.quarantine where load_id = ?", [load_id])
            con.execute("delete from raw.source_rows where load_id = ?", [load_id])
            if source != "labor":  # HR rows never enter the shared warehouse
                parsed.insert(con, "raw.source_rows", "raw", load_id=load_id, source=source)
                parsed.insert(con, target, "rows", load_id=load_id)
            if source == "billing":  # a later export of the same (provider, account, period) replaces it
                restated, duplicates = restate.supersede(con, load_id, relative, now, parts=parts)
                touched |= restated
                parsed.rows_loaded -= duplicates  # lines another part of the export holds: quarantined
                parsed.staged_rows -= duplicates
                parsed.rows_quarantined += duplicates
            for old in earlier:
                old_periods = con.execute("select periods from meta.loads where load_id = ?", [old]).fetchone()[0]
                touched |= set(old_periods or [])
                if source not in ("labor",):
                    old_format = con.execute(
                        "select detected_format from meta.loads where load_id = ?", [old]
                    ).fetchone()[0]
                    con.execute(f"delete from {_staging_table(source, old_format)} where load_id = ?", [old])
                con.execute(
                    "update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old]
                )
            parsed.insert(con, "meta.quarantine", "rejects", load_id=load_id, path=relative)
            warehouse.mark_pending(
                con, touched | parsed.periods
            )  # in this transaction: a crash after it still rebuilds them
            con.execute(
                "insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, null, ?, ?)",
                [
                    load_id,
                    source,
                    relative,
                    checksum,
                    parsed.format,
                    parsed.rows_in,
                    parsed.rows_loaded,
                    parsed.rows_quarantined,
                    _message(parsed),
                    sorted(parsed.periods),
                    now,
                ],
            )
    except BaseException:
        if source == "labor":
            with labor.open_restricted(ws.restricted) as hr:
                labor.forget(hr, load_id, parsed.format)
        raise
    result.periods |= touched


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
        return cls(
            parsed.format,
            parsed.rows_in,
            parsed.rows_loaded,
            parsed.rows_quarantined,
            list(parsed.notes),
            _staged_periods(source, parsed),
            staged_rows,
            parsed=parsed,
        )

    @classmethod
    def of_bundle(cls, found: bundle.Bundle) -> _Staged:
        m = found.meta
        return cls(
            m["format"],
            m["rows_in"],
            m["rows_loaded"],
            m["rows_quarantined"],
            m["notes"],
            set(m["periods"]),
            m["staged_rows"],
            on_disk=found,
        )

    def insert(self, con: duckdb.DuckDBPyConnection, table: str, part: str, **constants: str) -> None:
        """insert into `table` the part's rows (rows, raw or rejects) plus constant text columns."""
        extra = "".join(f", ?::varchar as {name}" for name in constants)
        if self.on_disk is not None:
            for file in self.on_disk.files(part):  # a chunked bundle: its chunks' files may differ in raw's keys
                con.execute(
                    f"insert into {table} by name select *{extra} from read_parquet(?)",
                    [*constants.values(), str(file)],
                )
            return
        con.register("_incoming", getattr(self.parsed, part).to_arrow())
        try:
            con.execute(f"insert into {table} by name select *{extra} from _incoming", list(constants.values()))
        finally:
            con.unregister("_incoming")


def _message(parsed: _Staged) -> str:
    if not parsed.rows_quarantined:
        message = f"{parsed.rows_loaded} rows loaded"
    else:
        message = f"{parsed.rows_loaded} rows loaded, {parsed.rows_quarantined} quarantined (see meta.quarantine)"
    return "; ".join([message, *parsed.notes])


def _record_rejected(
    con, load_id, source, relative, checksum, message, now, rejects: pl.DataFrame | None = None
) -> None:
    """A rejected file: its meta.loads row and, when it was rejected for its bad rows, every row
    in meta.quarantine (rows in = 0 loaded + rows quarantined; see checks.whole_file)."""
    rows = 0 if rejects is None else rejects.get_column(ROW).n_unique()
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute("delete from meta.quarantine where load_id = ?", [load_id])
        if rows:
            _insert(
                con,
                "meta.quarantine",
                rejects.rename({ROW: "row_number"}).with_columns(
                    pl.lit(load_id).alias("load_id"), pl.lit(relative).alias("path")
                ),
            )
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, null, ?, 0, ?, 'rejected', ?, null, [], ?)",
            [load_id, source, relative, checksum, rows, rows, message, now],
        )


def _record_held(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    verdict: manifest.Verdict,
    result: IngestResult,
) -> None:
    """A file recorded without being parsed: a billing manifest, a part of an incomplete
    multi-part export, or a link out of the inbox (its bytes are never read)."""
    relative = path.relative_to(ws.inbox).as_posix()
    inside = path.resolve().is_relative_to(ws.inbox.resolve())
    checksum = limits.checksum(path) if inside else sha256(relative.encode())
    load_id = f"{source}-{checksum[:16]}"
    now = datetime.now(UTC).replace(tzinfo=None)
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
            path.relative_to(ws.inbox).as_posix(),
            mode,
        )


def _rebuild_labor(ws: Workspace, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Rebuild labor at standard rates in the restricted database, and replace staging.labor and
    staging.labor_rates with what of it may be published (pipeline.ingest.labor_standard)."""
    version = _labor_version(con) or "hr"
    with labor.open_restricted(ws.restricted) as hr:
        built = labor_standard.build(hr, ws.config, version=version)
    now = datetime.now(UTC).replace(tzinfo=None)
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
    ids = [
        row[0]
        for row in con.execute(
            "select load_id from meta.loads where source = 'labor' and status = 'loaded' order by load_id"
        ).fetchall()
    ]
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
