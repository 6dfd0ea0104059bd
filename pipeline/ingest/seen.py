"""Inbox files already read, known by their file status (meta.inbox_files), so a run reads only
the new and changed files, not every file the inbox has held.

A file's bytes are taken as unchanged when its size, modification time, status change time,
inode and device are those recorded when it was last read, and it had last changed at least
RACY_NS before that: any write changes the status change time (which no program can set back),
but a write in the same clock tick as the read could leave every time as it was, so such a
file is read again (git's index trusts file status the same way). Anything else is read whole."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

RACY_NS = 2_000_000_000

Key = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class Status:
    """A file's status, taken at `seen_ns` (before its bytes are read)."""

    key: Key  # size, mtime_ns, ctime_ns, inode, device
    seen_ns: int

    @classmethod
    def of(cls, path: Path) -> Status | None:
        """The file's status now; None when it cannot be taken (the read says why)."""
        seen_ns = time.time_ns()
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev), seen_ns)


Known = dict[str, tuple[Key, str, int]]


def known(con: duckdb.DuckDBPyConnection) -> Known:
    """The recorded status of every inbox path whose file version is loaded (or superseded, not
    rejected): path -> (key, checksum, seen_ns). Empty when the warehouse has no record yet (a
    read-only connection to a warehouse made before the table)."""
    try:
        rows = con.execute(
            "select f.path, f.size, f.mtime_ns, f.ctime_ns, f.inode, f.device, l.checksum, f.seen_ns "
            "from meta.inbox_files as f join meta.loads as l using (load_id) where l.status <> 'rejected'"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {path: (tuple(key), checksum, seen_ns) for path, *key, checksum, seen_ns in rows}


def unchanged(files: Known, relative: str, status: Status | None) -> str | None:
    """The checksum of the file at `relative` when it is known unchanged since its loaded version
    was read, else None."""
    entry = files.get(relative)
    if entry is None or status is None:
        return None
    key, checksum, seen_ns = entry
    _, mtime_ns, ctime_ns, _, _ = status.key
    if status.key != key or max(mtime_ns, ctime_ns) > seen_ns - RACY_NS:
        return None
    return checksum


def remember(con: duckdb.DuckDBPyConnection, relative: str, status: Status | None, load_id: str) -> None:
    """Record that the file at `relative`, with `status`, held the bytes of the version `load_id`."""
    if status is None:
        return
    con.execute("delete from meta.inbox_files where path = ?", [relative])
    con.execute(
        "insert into meta.inbox_files values (?, ?, ?, ?, ?, ?, ?, ?)",
        [relative, *status.key, load_id, status.seen_ns],
    )
