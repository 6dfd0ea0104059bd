"""The project's exception types. Errors a user can cause carry a message that names the file,
row and column involved and what was expected; the CLI prints that message without a traceback."""

from __future__ import annotations

from pathlib import Path


class CostLedgerError(Exception):
    """Bad input or bad usage: the CLI exits 2 and prints the message."""

    exit_code = 2


class InputError(CostLedgerError):
    """A file (or one of its rows) that cannot be read as what it claims to be."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ConfigError(CostLedgerError):
    """The workspace configuration is missing or invalid."""


class ValidationFailed(CostLedgerError):
    """A fail-severity check did not pass: nothing was published. The CLI exits 1."""

    exit_code = 1
