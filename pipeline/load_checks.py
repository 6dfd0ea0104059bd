"""What a run quarantined or rejected, file by file (the view meta.quarantine_summary): one line per
file with quarantined or rejected rows, and the verdict that fails a run after the good files are
published: a file was rejected, or more than `quarantine.max_share` of its rows were quarantined.
`costledger run` prints the lines and exits 2 on that verdict; the nightly DAG's data-quality task
logs the same lines and fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from pipeline.errors import InputError
from pipeline.warehouse import sql_text

_LOADED = ("loaded", "superseded")


@dataclass(frozen=True)
class FileProblem:
    """One file version with quarantined or rejected rows."""

    path: str
    source: str
    status: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    reasons: str | None  # the top three `column: reason (n rows)`, most rows first
    message: str | None

    def over_share(self, max_share: Decimal) -> bool:
        """More than `max_share` of its rows quarantined (exact: quarantined > share x rows in)."""
        return self.rows_in > 0 and Decimal(self.rows_quarantined) > max_share * self.rows_in

    def failed(self, max_share: Decimal) -> bool:
        return self.status not in _LOADED or self.over_share(max_share)

    def line(self, max_share: Decimal) -> str:
        """`path: N rows in, N loaded, N quarantined[ (share, more than ...)]: why`."""
        counts = f"{self.rows_in} rows in, {self.rows_loaded} loaded, {self.rows_quarantined} quarantined"
        if self.status not in _LOADED:
            return f"{self.path}: {self.status}, {counts}: {self.message or 'no message'}"
        share = ""
        if self.over_share(max_share):
            share = f" ({_percent(self.rows_quarantined, self.rows_in)}, more than quarantine.max_share = {max_share})"
        return f"{self.path}: {counts}{share}: {self.reasons or 'no reason recorded'}"


class FilesFailed(InputError):
    """Files of the run were rejected, or had more than quarantine.max_share of their rows
    quarantined; the other files were loaded and published. Exit 2."""

    def __init__(self, failed: list[FileProblem], max_share: Decimal, *, periods: list[str] | None = None) -> None:
        self.lines = [problem.line(max_share) for problem in failed]
        self.periods = periods or []
        names = ", ".join(problem.path for problem in failed)
        self.summary = (
            f"{len(failed)} input file(s) rejected or with more than quarantine.max_share = {max_share} of their rows "
            f"quarantined: {names}; the other files were loaded and published (see meta.quarantine_summary)"
        )
        super().__init__("\n".join([self.summary, *self.lines]))


def file_problems(con: duckdb.DuckDBPyConnection, *, since: datetime) -> list[FileProblem]:
    """Files loaded or rejected at or after `since` (naive UTC) with quarantined or rejected rows."""
    rows = con.execute(sql_text("checks", "loads_since"), {"since": since}).fetchall()
    return [
        FileProblem(
            path=path,
            source=source,
            status=status,
            rows_in=rows_in,
            rows_loaded=loaded,
            rows_quarantined=quarantined,
            reasons=reasons,
            message=message,
        )
        for path, source, status, rows_in, loaded, quarantined, reasons, message in rows
    ]


def verdict(problems: list[FileProblem], max_share: Decimal, *, periods: list[str] | None = None) -> None:
    """Raise FilesFailed when a file was rejected or quarantined more than `max_share` of its rows."""
    failed = [problem for problem in problems if problem.failed(max_share)]
    if failed:
        raise FilesFailed(failed, max_share, periods=periods)


def _percent(part: int, whole: int) -> str:
    """An exact share as a percentage, to one decimal (rounded half to even), for display only."""
    return f"{(Decimal(part) * 100 / whole).quantize(Decimal('0.1'))}%"
