"""What every adapter works in: `Parsed` (what an adapter makes of one file), a column's declared
type (`Kind`, `Col`), the row number and the reject schema, rejecting rows with their reason, the
notes of what was done to values, the raw records kept as delivered, the scope of a file parsed in
chunks, and evaluating an expression once per distinct value."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import polars as pl

ROW = "row_number"


NULL_TOKENS = ("", "NULL", "null", "None")


REJECT_SCHEMA = pl.Schema({ROW: pl.Int64(), "column": pl.String(), "value": pl.String(), "reason": pl.String()})


def row_hash(columns: list[pl.Expr]) -> pl.Expr:
    """A 64-bit hash of the columns' values together: the sum (wrapping) of each column's hash with
    a seed of its own, so equal rows hash equal and a value moved to another column does not.
    Rows whose hash repeats are only candidates, to compare exactly. Several times faster than
    hashing a struct or comparing rows, which encode every row first."""
    return pl.sum_horizontal([column.hash(seed) for seed, column in enumerate(columns)])


def record_hash(raw: pl.DataFrame) -> pl.Expr:
    """row_hash of `raw`'s records (a struct of text values: its fields; JSON text: itself)."""
    dtype = raw.schema["record"]
    if isinstance(dtype, pl.Struct):
        return row_hash([pl.col("record").struct.field(f.name) for f in dtype.fields])
    return pl.col("record").hash()


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"  # exact decimal(38, 18), magnitude below AMOUNT_LIMIT (see pipeline.money)
    QUANTITY = "quantity"  # exact decimal(38, 18): a billed quantity, any magnitude the type holds
    DECIMAL = "decimal"  # exact decimal(38, 9)
    RATE = "rate"  # exact decimal(38, 10)
    INT = "int"
    DATE = "date"
    TIMESTAMP = "timestamp"  # UTC, naive


@dataclass(frozen=True)
class Col:
    kind: Kind = Kind.TEXT
    required: bool = False


@dataclass
class Parsed:
    """What an adapter makes of one file."""

    format: str
    raw: pl.DataFrame  # row_number, record (the row as delivered: a struct of text values, or JSON text)
    rows: pl.DataFrame  # typed, canonical columns, with row_number
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    notes: list[str] = field(default_factory=list)  # what was done to the values, for meta.loads.message

    @property
    def rows_in(self) -> int:
        return self.raw.height

    @property
    def rows_quarantined(self) -> int:
        return self.rejects.get_column(ROW).n_unique()

    @property
    def rows_loaded(self) -> int:
        """Input rows that reached staging (a telemetry series may yield many samples)."""
        return self.rows_in - self.rows_quarantined


class Tally(str):
    """A note that counts (values rounded, rows given a default): the notes of one template made
    by the chunks of a file add up to the note a whole-file parse writes (see `merge_notes`)."""

    template: str
    times: int  # how many values or rows the note counts
    residual: Decimal | None

    def __new__(cls, template: str, count: int, residual: Decimal | None = None) -> Tally:
        note = super().__new__(cls, template.format(count=count, residual=residual))
        note.template, note.times, note.residual = template, count, residual
        return note

    def __add__(self, other: str) -> str:
        if not isinstance(other, Tally) or other.template != self.template:
            return str(self) + other
        residual = None if self.residual is None else self.residual + (other.residual or Decimal(0))
        return Tally(self.template, self.times + other.times, residual)


def merge_notes(notes: list[str]) -> list[str]:
    """The notes of a file's chunks as one parse of the whole file writes them: tallies of one
    template summed, other notes once each, in the order they first appear."""
    merged: dict[str, str] = {}
    for note in notes:
        key = note.template if isinstance(note, Tally) else note
        merged[key] = merged[key] + note if key in merged and isinstance(note, Tally) else merged.get(key, note)
    return list(merged.values())


@dataclass
class FileScope:
    """What the chunks of one file have shown so far, for the decisions a parse of the whole file
    takes from all its rows at once (pipeline.ingest.chunked sets it around each chunk):

    - `order`: the day/month order of the file's slash dates, fixed by the first chunk whose
      values decide it (a chunk contradicting it is the file's "both orders" error); `slashed`:
      some chunk has slash dates; `ambiguous`: some chunk has only ambiguous ones; `firsts`: the
      first slash date of each column (row, value), for the error messages;
    - `currencies`: the currencies a fallback currency column names (see `single_currency`).

    A chunk that needs what a later chunk may show raises Undecided and is parsed again once
    every chunk has been seen (`final`), when the scope holds what the whole file shows."""

    final: bool = False
    order: str | None = None
    slashed: bool = False
    ambiguous: bool = False
    firsts: dict[str, tuple[int, str]] = field(default_factory=dict)
    currencies: dict[tuple[str, str], set[str]] = field(default_factory=dict)


class Undecided(Exception):
    """A chunk whose parse depends on rows of later chunks: parsed again at the end."""


FILE_SCOPE: ContextVar[FileScope | None] = ContextVar("file_scope", default=None)


@contextmanager
def file_scope(scope: FileScope) -> Iterator[FileScope]:
    """Parse within `scope` (one chunk of a file at a time)."""
    token = FILE_SCOPE.set(scope)
    try:
        yield scope
    finally:
        FILE_SCOPE.reset(token)


def raw_records(frame: pl.DataFrame) -> pl.DataFrame:
    """row_number + the row as delivered, every value text: the lossless raw layer.

    `record` is a struct of the delivered columns, which costs nothing to make here (it wraps the
    columns): the raw layer keeps it as Parquet and raw.source_rows shows it as a JSON object (see
    pipeline.ingest.raw_store). Sources that build their own records (one per telemetry series)
    give JSON text."""
    columns = [c for c in frame.columns if c != ROW]
    if not columns:
        return pl.DataFrame(schema={ROW: pl.Int64, "record": pl.String})
    return frame.select(ROW, pl.struct(columns).alias("record"))


def line_records(lines: list[tuple[int, str]]) -> pl.DataFrame:
    """row_number + a text line as delivered (exposition samples, counters), as the raw layer's
    JSON object `{"line": ...}` (a bare line of text is not JSON)."""
    frame = pl.DataFrame(lines, schema={ROW: pl.Int64, "line": pl.String}, orient="row")
    return frame.select(ROW, pl.struct("line").alias("record"))


def reject(rows: pl.DataFrame, mask: pl.Expr, *, column: str, reason: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Move the typed rows matching `mask` to rejects with a reason (rule checks after typing).
    A null mask (a comparison with a missing value) keeps the row: never drop it silently."""
    mask = mask.fill_null(False)
    bad = rows.filter(mask)
    rejects = bad.select(
        pl.col(ROW),
        pl.lit(column).alias("column"),
        pl.col(column).cast(pl.String).alias("value"),
        pl.lit(reason).alias("reason"),
    ).cast(REJECT_SCHEMA)
    return rows.filter(~mask), rejects


def map_distinct(series: pl.Series, make: Callable[[pl.Expr], pl.Expr]) -> pl.Series | None:
    """`make(value)` computed once per distinct value of `series` and mapped back to every row
    (dates, enum-like text: a bill repeats them); None when most values differ."""
    distinct = series.unique()
    if series.is_empty() or distinct.len() * 8 > series.len():
        return None
    mapped = pl.DataFrame({"v": distinct}).select(make(pl.col("v"))).to_series()
    return series.replace_strict(distinct, mapped, return_dtype=mapped.dtype).alias(series.name)


def by_distinct(series: pl.Series, make: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """`make(value)` for every value of `series`: once per distinct value when values repeat
    (`map_distinct`), else on the whole column."""
    mapped = map_distinct(series, make)
    return (
        pl.DataFrame([series]).select(make(pl.col(series.name))).to_series().alias(series.name)
        if mapped is None
        else mapped
    )
