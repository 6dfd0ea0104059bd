"""One writer per workspace: every writing step holds `<workspace>/.costledger.lock` (fcntl.flock).

The lock spans a whole `run` (ingest, build, validate, publish), so two runs never interleave
their steps. A second process waits up to COSTLEDGER_LOCK_WAIT seconds (default 0) and then
stops with a message naming the holder. The kernel drops the lock when its holder dies, even by
SIGKILL, so a crash never leaves a stale lock behind. Re-entrant within one process.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import CostLedgerError

LOCK_FILE = ".costledger.lock"
LOCK_WAIT = "COSTLEDGER_LOCK_WAIT"
_held: dict[Path, int] = {}  # lock path -> depth, for re-entry within this process


class Busy(CostLedgerError):
    """Another costledger process is writing to the workspace (exit 2)."""


def _wait_seconds() -> float:
    text = os.environ.get(LOCK_WAIT, "0")
    try:
        return max(float(text), 0.0)
    except ValueError:
        raise CostLedgerError(f"{LOCK_WAIT}={text!r}: expected a number of seconds") from None


@contextmanager
def hold(root: Path, command: str, *, wait: float | None = None) -> Iterator[None]:
    """Hold the workspace's writer lock for the block; raise Busy if another process keeps it."""
    path = Path(root) / LOCK_FILE
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    wait = _wait_seconds() if wait is None else wait
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(path)
                    raise Busy(
                        f"{root}: another costledger process is writing to this workspace ({holder}); "
                        f"nothing was changed. Retry when it has finished, or set {LOCK_WAIT}=<seconds> to wait"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.write(fd, f"pid {os.getpid()}, {command}, since {started}".encode())
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "holder unknown"
