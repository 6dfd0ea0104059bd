"""Which inbox files are ready to read: the settle time, files still being written or changed
while read, and the one streaming pass that takes a file's checksum and checks its limits.

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
from pathlib import Path

from pipeline import pull
from pipeline.errors import ConfigError, CostLedgerError
from pipeline.ingest import (
    limits,
    manifest,
)
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)


SETTLE_ENV = "COSTLEDGER_SETTLE_SECONDS"


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


def unsettled(path: Path, relative: str, settle: float, now: float) -> str | None:
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


def unsettled_export(
    ws: Workspace, path: Path, export: manifest.Export | None, settle: float, now: float
) -> str | None:
    """The settle note of a file, or of the first unsettled part of the multi-part export it
    belongs to (an export loads whole or waits)."""
    relative = path.relative_to(ws.inbox).as_posix()
    note = unsettled(path, relative, settle, now)
    if note is not None or export is None:
        return note
    for part in export.parts:
        if part != path and (other := unsettled(part, part.relative_to(ws.inbox).as_posix(), settle, now)) is not None:
            return (
                f"{relative}: part of the export {export.manifest.relative_to(ws.inbox).as_posix()}, whose part {other}"
            )
    return None


def moved_note(relative: str, exc: limits.Moved) -> str:
    return f"{relative}: {exc}; skipped, it loads on a later run once it has settled"


def scan_file(ws: Workspace, source: str, path: Path) -> limits.Scan:
    """The file's checksum and limits, in one streaming pass (see pipeline.ingest.limits)."""
    return limits.scan(
        path, limits.Limits.of(ws.config.ingest, source), csv=source != "telemetry", json_document=source == "telemetry"
    )


def read_scanned(path: Path, scanned: limits.Scan) -> bytes:
    """The file's bytes for the parser: exactly the bytes scanned, else Moved."""
    data = path.read_bytes()
    if len(data) != scanned.size or sha256(data) != scanned.checksum:
        raise limits.Moved(f"changed while it was read ({scanned.size:,} bytes, then {len(data):,})")
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def warn_if_readable(ws: Workspace, path: Path) -> None:
    """HR files hold names and pay: say so, one line, when one is readable beyond its owner."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o044:
        log.warning(
            "%s is readable by group or others (mode %03o): HR files hold pay; "
            "make them owner-only (chmod 600, and 700 on the folder)",
            path.relative_to(ws.inbox).as_posix(),
            mode,
        )
