"""One inbox file through the writer: recorded as held, left to settle, parsed (or taken from
its bundle, or staged in chunks when large) and written, or rejected with one message.

Each file is its own unit: whatever goes wrong while reading, parsing or writing one file (a
parser's exception, a limit of pipeline.ingest.limits, a DuckDB error in its transaction, which is
rolled back) rejects that file, and the other files load. Only a failure of the warehouse itself
(its disk, its database file) stops the writer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline import crash
from pipeline.errors import CostLedgerError, InputError
from pipeline.ingest import (
    bundle,
    detect,
    discover,
    limits,
    manifest,
    seen,
    writer,
)
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)


# Errors of the warehouse itself, not of the file being loaded: they stop the writer.
WAREHOUSE_ERRORS = (duckdb.IOException, duckdb.FatalException, duckdb.InterruptException, duckdb.TransactionException)


def wait(result: writer.IngestResult, note: str) -> None:
    result.waiting.append(note)
    log.warning("%s", note)


def ingest_file(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    result: writer.IngestResult,
    *,
    held: dict,
    exports: dict,
    settle: float,
    started: float,
    read_before: seen.Known | None = None,
) -> None:
    """Load one inbox file, record it as held, or leave it to settle. `read_before`: the inbox files
    read before (seen.known): one known unchanged is not read again."""
    crash.point("file")
    if source == "labor":
        discover.warn_if_readable(ws, path)
    if not path.resolve().is_relative_to(ws.inbox.resolve()):
        held[path] = manifest.Verdict(
            "rejected", f"{path.relative_to(ws.inbox).as_posix()}: links outside the inbox; not read"
        )
    if path in held:
        writer.record_held(ws, con, source, path, held[path], result)
        return
    note = discover.unsettled_export(ws, path, exports.get(path), settle, started)
    if note is not None:
        wait(result, note)
        return
    parts = (
        frozenset(p.relative_to(ws.inbox).as_posix() for p in exports[path].parts if p != path)
        if path in exports
        else frozenset()
    )
    load_one(ws, con, source, path, result, parts=parts, read_before=read_before)


def load_one(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    result: writer.IngestResult,
    *,
    parts: frozenset[str] = frozenset(),
    read_before: seen.Known | None = None,
) -> None:
    """Load one settled file in one transaction, or record it as rejected; never raise for what
    is wrong with the file. `parts`: the other files of the multi-part export it belongs to;
    `read_before`: the inbox files read before (seen.known): one known unchanged, whose bytes are
    loaded, is not read again."""
    relative = path.relative_to(ws.inbox).as_posix()
    status = seen.Status.of(path)
    if seen.unchanged(read_before or {}, relative, status) is not None:  # its loaded version, unchanged
        result.skipped.append(relative)
        return
    try:
        scanned = discover.scan_file(ws, source, path)
    except limits.Moved as exc:
        wait(result, discover.moved_note(relative, exc))
        return
    except FileNotFoundError:  # removed since it was listed: nothing to load
        return
    except OSError as exc:  # unreadable (permissions, an I/O error): rejected under its path's id
        scanned = limits.Scan(
            discover.sha256(relative.encode()), 0, 0, f"could not be read ({type(exc).__name__}: {exc.strerror or exc})"
        )
    checksum = scanned.checksum
    load_id = f"{source}-{checksum[:16]}"
    if _loaded(con, load_id):
        result.skipped.append(relative)  # the same bytes again (maybe renamed): a no-op
        seen.remember(con, relative, status, load_id)
        return
    now = datetime.now(UTC).replace(tzinfo=None)

    def reject(exc: Exception) -> None:
        error = detect.rejection(exc, path)
        writer.record_rejected(con, load_id, source, relative, checksum, str(error), now, getattr(exc, "rejects", None))
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
        writer.record_rejected(con, load_id, source, relative, checksum, staged.error, now, staged.rejects())
        result.errors.append(staged.error)
        log.error("%s", staged.error)
        bundle.discard(staged)
        return
    made_here = False  # a bundle this writer staged (a large file parsed in chunks): never left behind
    if staged is not None:
        parsed = writer.Staged.of_bundle(staged)
    else:
        try:
            if streamed := detect.streamed(ws, source, path, scanned):
                staged = streamed(ws, source, path, scanned, load_id=load_id, relative=relative)
                made_here = True
                parsed = writer.Staged.of_bundle(staged)
            else:
                parsed = writer.Staged.of_parsed(
                    detect.parse_checked(ws, source, path, discover.read_scanned(path, scanned)), source
                )
        except limits.Moved as exc:
            wait(result, discover.moved_note(relative, exc))
            return
        except Exception as exc:  # noqa: BLE001 - whatever one file raises rejects that file only
            reject(exc)
            return
    try:
        writer.write(ws, con, source, relative, load_id, checksum, parsed, now, result, parts)
    except WAREHOUSE_ERRORS:
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
    seen.remember(con, relative, status, load_id)
    result.loaded.append(load_id)
    result.rows[relative] = (parsed.rows_loaded, parsed.rows_quarantined)
    result.periods |= parsed.periods


def _loaded(con: duckdb.DuckDBPyConnection, load_id: str) -> bool:
    """Whether the file version `load_id` was read before and not rejected (loaded or superseded)."""
    found = con.execute("select status from meta.loads where load_id = ?", [load_id]).fetchall()
    return bool(found) and found[0][0] != "rejected"
