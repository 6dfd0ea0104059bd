"""The project's exception types. Errors a user can cause carry a message that names the file,
row and column involved and what was expected; the CLI prints that message without a traceback."""

from __future__ import annotations

import errno
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

# Characters that can break or forge a line of output: C0 and C1 controls, DEL, Unicode line and
# paragraph separators, and the bidirectional marks and overrides that reorder what a reader sees
# (a character class that Python's `re` and Polars' Rust regex both read).
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
_CONTROL = re.compile(CONTROL_CHARACTERS)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """`text` on one line, as a reader sees it: each control character written as an escape
    (`\\n`, `\\t`, `\\x1b`, `\\u202e`). Other text, backslashes included, is left as it is, so escaping
    twice changes nothing."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group()) or _code(m.group()), text)


def _code(char: str) -> str:
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


class EscapingFormatter(logging.Formatter):
    """A log formatter whose message part is one line: control characters in file names and
    values are escaped (a traceback, when logged, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return escape_control(super().formatMessage(record))


class CostLedgerError(Exception):
    """Bad input or bad usage: the CLI exits 2 and prints the message."""

    exit_code = 2


class InputError(CostLedgerError):
    """A file (or one of its rows) that cannot be read as what it claims to be. `rejects`: when the
    whole file is refused, its rows as meta.quarantine keeps them."""

    rejects: pl.DataFrame | None = None

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message  # without the place (path, row, column) the text adds
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        where = []
        if self.path is not None:
            where.append(escape_control(self.path))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {escape_control(repr(column))}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ConfigError(CostLedgerError):
    """The workspace configuration is missing or invalid."""


class ValidationFailed(CostLedgerError):
    """A fail-severity check did not pass: nothing was published. The CLI exits 1."""

    exit_code = 1


class EnvironmentProblem(CostLedgerError):
    """The machine stopped a step, not the input: a full or read-only disk, a missing permission.
    The CLI exits 2 with what to do; the step's transaction was rolled back."""


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM}
_MACHINE = {*_DISK_FULL, *_DENIED, errno.EROFS}
# DuckDB and Polars report the operating system's error as text: its words, or Rust's "(os error N)"
_TEXTS = tuple((os.strerror(n), n) for n in sorted(_MACHINE))
_OS_ERROR = re.compile(r"\(os error (\d+)\)")
_QUOTED_PATH = re.compile(r'"(/[^"]*)"')


def machine_errno(exc: BaseException) -> int | None:
    """The errno of a full or read-only disk or a missing permission behind `exc`, whatever
    library raised it (DuckDB's IO and fatal errors, Polars' compute errors carry it as text)."""
    if isinstance(exc, OSError) and exc.errno in _MACHINE:
        return exc.errno
    text = str(exc)
    found = _OS_ERROR.search(text)
    if found and int(found[1]) in _MACHINE:
        return int(found[1])
    return next((n for t, n in _TEXTS if t in text), None)


def environment_problem(exc: BaseException) -> EnvironmentProblem:
    """An OSError, or a library's report of one, as one line saying what happened where and what
    to do."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    code = machine_errno(exc)
    filename = getattr(exc, "filename", None)
    found = _QUOTED_PATH.search(text)
    where = escape_control(str(filename if filename is not None else found[1] if found else "the workspace"))
    unchanged = "the step that stopped changed nothing"
    if code in _DISK_FULL:
        return EnvironmentProblem(
            f"no space left to write {where} ({os.strerror(code)}): free space on that disk (DuckDB also spills to "
            f"<warehouse>.tmp/ beside the warehouse), then run again; {unchanged}"
        )
    if code == errno.EROFS:
        return EnvironmentProblem(
            f"{where} is on a read-only file system: run on a writable copy of the workspace, or query it with "
            f"`costledger sql`, which only reads; {unchanged}"
        )
    if code in _DENIED:
        return EnvironmentProblem(
            f"{where}: permission denied: give this user write access to the workspace (the warehouse, its .wal "
            f"file and its folder), or run as their owner; `costledger sql` only reads; {unchanged}"
        )
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else text
    return EnvironmentProblem(f"cannot read or write {where}: {escape_control(detail)}")
