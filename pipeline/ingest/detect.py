"""What a file is and what it holds: the source's format found from the content (billing,
telemetry, HR, the other tables), parsed and checked; and the one-line message of a file that
could not be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.errors import InputError
from pipeline.ingest import (
    billing,
    bundle,
    checks,
    chunked,
    labor,
    limits,
    tables,
    telemetry,
)
from pipeline.ingest.parse import Parsed, header_of, read_bytes
from pipeline.ingest.telemetry import stream as telemetry_stream
from pipeline.workspace import Workspace


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


def parse_file(ws: Workspace, source: str, path: Path, data: bytes) -> Parsed:
    """Detect the format from the content and parse it. Raises InputError for unreadable files."""
    if not data.strip():
        raise InputError("empty file: expected a header line and rows", path=path)
    if source == "telemetry":
        return telemetry.read(path, data, ws.config)
    if source == "billing":
        return billing.read(path, data, config=ws.config)
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


def parse_checked(ws: Workspace, source: str, path: Path, data: bytes) -> Parsed:
    """Parse and check a file from `data`, the bytes its checksum was taken of (read once)."""
    return checks.apply(
        parse_file(ws, source, path, read_bytes(path, data)), source=source, path=path, config=ws.config
    )


def streamed(ws: Workspace, source: str, path: Path, scanned: limits.Scan) -> Callable[..., bundle.Bundle] | None:
    """How a file too large to parse whole is parsed a chunk at a time (None: it is parsed whole)."""
    if telemetry_stream.wanted(ws, source, path, scanned):
        return telemetry_stream.stage
    return chunked.stage if chunked.wanted(ws, source, scanned) else None
