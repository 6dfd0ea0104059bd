"""Loading the inbox: every new or changed file is detected from its content, parsed, and
written (raw rows, typed rows, quarantined rows, one meta.loads row) in one transaction.
The parse can run ahead, one process per file (`pending` lists the files, `stage` parses one
into a bundle; see pipeline.ingest.bundle), as the nightly DAG's parse tasks do, or in threads
beside the writer (pipeline.ingest.ahead), as `costledger run` does; `ingest`, the one writer,
loads the bundles, and parses itself a file that has none.

The jobs are modules: discover (settled files, files in motion), detect (a file's format and
parse), load_file and writer (one file into the warehouse), labor_rebuild (labor at standard
rates after HR loads). Each file is its own unit: what goes wrong with one rejects that file,
with one message naming it and the cause, and the other files load."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from pathlib import Path

import duckdb

from pipeline import labor_state, warehouse
from pipeline.errors import CostLedgerError, InputError
from pipeline.ingest import (
    ahead,
    bundle,
    detect,
    discover,
    labor_rebuild,
    limits,
    load_file,
    manifest,
    raw_store,
    seen,
    writer,
)
from pipeline.ingest.detect import parse_file, rejection
from pipeline.ingest.discover import SETTLE_ENV, settle_time, sha256
from pipeline.ingest.writer import IngestResult
from pipeline.progress import Progress
from pipeline.workspace import SOURCES, Workspace

log = logging.getLogger(__name__)
CHECKPOINT_THRESHOLD = "1GB"


def ingest(
    ws: Workspace,
    *,
    settle_seconds: float | None = None,
    progress: Progress | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> IngestResult:
    """The one writer: load every new or changed file that has settled, from its parsed bundle
    when the parse step left a valid one (see pipeline.ingest.bundle), else parsing it here.
    Each file's outcome is a line of `progress` (by default logged). `con`: the warehouse's
    connection to load with (by default one of its own)."""
    if con is None:
        with warehouse.connect(ws.warehouse) as own:
            return ingest(ws, settle_seconds=settle_seconds, progress=progress, con=own)
    result = IngestResult()
    progress = progress or Progress()
    started = time.time()
    settle = settle_time(ws, settle_seconds)
    # each file commits on its own, durable in the write-ahead log; the database file is
    # written when the log reaches this size and when the writer closes, not at DuckDB's
    # default (16 MB), which checkpointed after every telemetry file and slowed the load
    con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    # the files' rows carry their row numbers and every query that needs an order says so:
    # stored in any order, they are inserted in parallel rather than in one ordered stream
    con.execute("set preserve_insertion_order = false")
    raw_store.sweep(ws, con)
    warehouse.define_raw_view(con, ws.root)  # without the files just swept
    listing = [_listed(ws, source) for source in SOURCES]
    read_before = seen.known(con)
    staged = bundle.staged_paths(ws)
    to_parse = [
        (source, relative)
        for source, files, held, exports in listing
        for relative in _to_parse(ws, source, files, held, exports, read_before, settle=settle, now=started)
        if relative not in staged
    ]
    progress.phase("loading inbox files", sum(len(files) for _, files, _, _ in listing))
    with (
        ahead.ParseAhead(ws, to_parse, stage, loaded=_loaded(con)) as parsing,
        warehouse.memory_beside_parsing(con, parsing.workers > 0),
    ):
        for source, files, held, exports in listing:
            for path in files:
                mark = result.mark()
                parsing.ready(path.relative_to(ws.inbox).as_posix())
                load_file.ingest_file(
                    ws,
                    con,
                    source,
                    path,
                    result,
                    held=held,
                    exports=exports,
                    settle=settle,
                    started=started,
                    read_before=read_before,
                )
                progress.item(result.outcome(path.relative_to(ws.inbox).as_posix(), mark))
    if any(load.startswith("labor-") for load in result.loaded) or labor_state.stale(con, ws.config):
        result.periods |= labor_rebuild.rebuild(ws, con)
    bundle.sweep(ws, before=started)  # bundles this writer could have used are spent or stale
    return result


def pending(workspace: Path | str | Workspace, *, settle_seconds: float | None = None) -> list[dict]:
    """The files the writer would parse, for the parse step: new or changed (or rejected
    before), settled, not held back by a billing manifest, not HR (parsed only by the writer).
    Opens the warehouse read-only; the writer still decides what loads."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    settle = settle_time(ws, settle_seconds)
    now = time.time()
    loaded: set[str] = set()
    read_before: seen.Known = {}
    if ws.warehouse.exists():
        with duckdb.connect(str(ws.warehouse), read_only=True) as con:
            try:
                loaded = _loaded(con)
            except duckdb.CatalogException:  # created but never loaded into
                pass
            read_before = seen.known(con)
    found = []
    for source in SOURCES:
        for relative in _to_parse(ws, *_listed(ws, source), read_before, settle=settle, now=now):
            checksum = limits.checksum(ws.inbox / relative)  # not known unchanged (_to_parse): read
            if f"{source}-{checksum[:16]}" not in loaded:
                found.append({"source": source, "path": relative, "checksum": checksum})
    return found


def _loaded(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The load ids of the file versions whose bytes are in the warehouse (loaded or superseded)."""
    return {row[0] for row in con.execute("select load_id from meta.loads where status <> 'rejected'").fetchall()}


def _listed(
    ws: Workspace, source: str
) -> tuple[str, list[Path], dict[Path, manifest.Verdict], dict[Path, manifest.Export]]:
    """A source's inbox files, with the billing manifests' verdicts (files held back) and exports
    (the multi-part exports they belong to)."""
    files = ws.source_files(source)
    if source != "billing":
        return source, files, {}, {}
    return source, files, manifest.verdicts(files, ws.inbox), manifest.exports(files)


def _to_parse(
    ws: Workspace,
    source: str,
    files: list[Path],
    held: dict[Path, manifest.Verdict],
    exports: dict[Path, manifest.Export],
    read_before: seen.Known,
    *,
    settle: float,
    now: float,
) -> list[str]:
    """The inbox-relative paths of `files` (of `source`, with its manifests' `held` and `exports`)
    the parse step may stage: not HR, settled, not held back by a billing manifest, not known
    unchanged since they were read (seen)."""
    if source in bundle.NOT_STAGED:
        return []
    found = []
    for path in files:
        if path in held or not path.resolve().is_relative_to(ws.inbox.resolve()):
            continue
        if discover.unsettled_export(ws, path, exports.get(path), settle, now) is not None:
            continue  # the writer notes it and leaves it for a later run
        relative = path.relative_to(ws.inbox).as_posix()
        if seen.unchanged(read_before, relative, seen.Status.of(path)) is None:
            found.append(relative)
    return found


def stage(
    workspace: Path | str | Workspace,
    source: str,
    relative: str,
    *,
    loaded: Collection[str] = frozenset(),
    report: bool = True,
) -> dict:
    """The parse step: check, parse and stage one inbox file as a bundle for the writer (a
    rejected file too, with its message). Never opens the warehouse. A file that changes while it
    is read stages nothing (status `changed`): the writer sees it as it is then; nor does one
    whose load id is in `loaded` (status `loaded`: those bytes are in the warehouse already).
    `report`: log what a file that could not be read raised (not when parsing ahead of the
    writer, which parses a rejected file again and reports it)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if source in bundle.NOT_STAGED:
        raise CostLedgerError(
            f"{relative}: {source} files are parsed only by the writer (their rows stay in the restricted database)"
        )
    path = ws.inbox / relative
    try:
        scanned = discover.scan_file(ws, source, path)
    except FileNotFoundError:  # removed since it was listed: nothing for the writer either
        return {"load_id": None, "status": "gone"}
    except limits.Moved:
        return {"load_id": None, "status": "changed"}
    except OSError:  # unreadable here: the writer records it
        return {"load_id": None, "status": "unreadable"}
    load_id = f"{source}-{scanned.checksum[:16]}"
    if load_id in loaded:
        return {"load_id": load_id, "status": "loaded"}
    parsed, error, rejects = None, None, None
    if scanned.problem is not None:
        error = str(InputError(scanned.problem, path=path))
    else:
        try:
            if streamed := detect.streamed(ws, source, path, scanned):  # staged a chunk at a time, as the bundle itself
                streamed(ws, source, path, scanned, load_id=load_id, relative=relative)
                return {"load_id": load_id, "status": "parsed"}
            parsed = detect.parse_checked(ws, source, path, discover.read_scanned(path, scanned))
        except limits.Moved:
            return {"load_id": load_id, "status": "changed"}
        except Exception as exc:  # noqa: BLE001 - whatever one file raises rejects that file only
            if report and not isinstance(exc, InputError):  # in the parse task's log, with where it was raised
                log.error("%s: could not be read", relative, exc_info=exc)
            error, rejects = str(rejection(exc, path)), getattr(exc, "rejects", None)
    periods = writer.staged_periods(source, parsed) if parsed is not None else set()
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


__all__ = [
    "SETTLE_ENV",
    "IngestResult",
    "ingest",
    "parse_file",
    "pending",
    "rejection",
    "settle_time",
    "sha256",
    "stage",
]
