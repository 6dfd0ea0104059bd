"""Reading delivered files as text, and typing their columns with every failure kept.

Adapters read a file into an all-text frame (nothing lost), then `coerce` types each declared
column. A row with a value that does not parse, or without a required value, goes to quarantine
with its row number, column, value and the reason; the other rows go on.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.money import AMOUNT_LIMIT, AMOUNT_LIMIT_TEXT, MONEY

ROW = "row_number"
NULL_TOKENS = ("", "NULL", "null", "None")
REJECT_SCHEMA = {ROW: pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}


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
    count: int
    residual: Decimal | None

    def __new__(cls, template: str, count: int, residual: Decimal | None = None) -> Tally:
        note = super().__new__(cls, template.format(count=count, residual=residual))
        note.template, note.count, note.residual = template, count, residual
        return note

    def __add__(self, other: str) -> str:  # type: ignore[override]
        if not isinstance(other, Tally) or other.template != self.template:
            return str(self) + other
        residual = None if self.residual is None else self.residual + (other.residual or Decimal(0))
        return Tally(self.template, self.count + other.count, residual)


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


_SCOPE: ContextVar[FileScope | None] = ContextVar("file_scope", default=None)


@contextmanager
def file_scope(scope: FileScope) -> Iterator[FileScope]:
    """Parse within `scope` (one chunk of a file at a time)."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def read_bytes(path: Path, data: bytes | None = None) -> bytes:
    """File bytes (or `data`, the bytes already read from `path`), gunzipped when they are gzip
    (detected from the magic number, not the name)."""
    data = path.read_bytes() if data is None else data
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"truncated or corrupt gzip data ({exc})", path=path) from None
    return data


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 text (a byte-order mark is dropped); other encodings are an error naming the row."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8: byte 0x{data[exc.start]:02x} at byte {exc.start} (line {line}); re-export the file as UTF-8",
            path=path,
            row=max(line - 1, 0) or None,
        ) from None


def header_of(data: bytes, path: Path) -> list[str]:
    """The first line's column names (for detecting a CSV format from its content)."""
    first = decode_text(data.split(b"\n", 1)[0], path).strip("\r")
    return [c.strip().strip('"') for c in first.split(",")]


def read_csv_text(path: Path, *, data: bytes | None = None) -> pl.DataFrame:
    """Every cell as text exactly as delivered (empty cell = null), plus row_number from 1.
    Polars reads the bytes itself (no Python copy of the text); when it finds bytes that are not
    UTF-8, `decode_text` names the line."""
    data = read_bytes(path) if data is None else data
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if not data or data.isspace():
        raise InputError("empty file: expected a header line and rows", path=path)
    try:
        frame = pl.read_csv(
            data,
            infer_schema=False,
            null_values=[""],
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as exc:
        decode_text(data, path)  # raises with the line when the bytes are not UTF-8
        raise InputError(f"not a readable CSV file: {str(exc).splitlines()[0]}", path=path) from None
    columns = [_DUPLICATED.sub("", c) if _DUPLICATED.sub("", c) in frame.columns else c for c in frame.columns]
    check_names(columns, path)
    frame = frame.rename({c: c.strip() for c in frame.columns})
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


# Polars renames a repeated CSV header name `x` to `x_duplicated_0`, `x_duplicated_1`, ...
_DUPLICATED = re.compile(r"_duplicated_\d+$")


def check_names(names: list[str], path: Path) -> None:
    """Column names must differ once spaces are trimmed and case ignored: `BilledCost` and
    `BilledCost ` (or `billedcost`) in one header leave it unclear which holds the values.
    Empty names (a header ending in commas) are not compared."""
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        key = name.strip().casefold()
        if not key:
            continue
        if key in seen:
            raise InputError(
                f"the header has {names[seen[key] - 1]!r} and {name!r} (columns {seen[key]} and {number}), the same "
                "name once "
                "spaces are trimmed and case ignored: which one holds the values is ambiguous; re-export with distinct "
                "names",
                path=path,
                row=0,
                column=name.strip(),
            )
        seen[key] = number


PARQUET_MAGIC = b"PAR1"


def _json_text(value: object) -> str | None:
    """A nested Parquet/JSON value as JSON text; a map (list of key/value structs) as an object."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, dict) and set(v) == {"key", "value"} for v in value):
        return json.dumps({v["key"]: v["value"] for v in value}, ensure_ascii=False, default=str)
    return json.dumps(value, ensure_ascii=False, default=str)


def read_parquet_text(path: Path, *, data: bytes) -> pl.DataFrame:
    """A Parquet file with every column cast to text (so raw stays lossless), plus row_number.
    Floats become their shortest round-trip text; maps and structs become JSON objects."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {str(exc).splitlines()[0]}", path=path) from None
    return parquet_text(frame, path)


def parquet_text(frame: pl.DataFrame, path: Path, *, first: int = 1) -> pl.DataFrame:
    """Rows of a Parquet file as read by Polars -> the all-text frame, numbered from `first`."""
    check_names(frame.columns, path)
    columns = []
    for name, dtype in frame.schema.items():
        series = frame.get_column(name)
        if _is_string_map(dtype):  # the common case (CUR 2.0 tags, product): vectorised, same text
            columns.append(frame.select(_string_map_text(name)).to_series())
        elif dtype.is_nested():  # other maps, lists, structs: JSON text of the Python value
            columns.append(pl.Series(name, [_json_text(v) for v in series.to_list()], dtype=pl.String))
        elif dtype.is_temporal():  # a bill repeats its hours: each distinct one printed once
            columns.append(by_distinct(series, lambda value: value.cast(pl.String)))
        else:
            columns.append(series.cast(pl.String))
    frame = pl.DataFrame(columns, schema={name: pl.String for name in frame.columns}) if columns else frame
    return frame.with_row_index(ROW, offset=first).with_columns(pl.col(ROW).cast(pl.Int64))


def _is_string_map(dtype: pl.DataType) -> bool:
    """A Parquet map of text to text, as Polars reads it: a list of key/value structs."""
    return (
        isinstance(dtype, pl.List)
        and isinstance(dtype.inner, pl.Struct)
        and [(f.name, f.dtype) for f in dtype.inner.fields] == [("key", pl.String()), ("value", pl.String())]
    )


def _string_map_text(name: str) -> pl.Expr:
    """A text-to-text map column as the JSON object text `_json_text` writes for it."""
    entry = pl.concat_str(
        json_string(pl.element().struct.field("key")), pl.lit(": "), json_string(pl.element().struct.field("value"))
    )
    return pl.concat_str(pl.lit("{"), pl.col(name).list.eval(entry).list.join(", "), pl.lit("}")).alias(name)


def json_string(expr: pl.Expr) -> pl.Expr:
    """The JSON literal of a text value (`null` for null), escaped as json.dumps(ensure_ascii=False)
    escapes it, so vectorised and row-by-row paths write the same text."""
    return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")


def json_object(pairs: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """Text of the JSON object of (key, text value) pairs without the null values, keys sorted and
    spaced as json.dumps(..., ensure_ascii=False, sort_keys=True) writes them; null when empty."""
    if not pairs:
        return pl.lit(None, dtype=pl.String)
    entries = [
        pl.when(value.is_not_null()).then(
            pl.concat_str(pl.lit(json.dumps(key, ensure_ascii=False) + ": "), json_string(value))
        )
        for key, value in sorted(pairs, key=lambda pair: pair[0])
    ]
    body = pl.concat_str(entries, separator=", ", ignore_nulls=True)
    return pl.when(body != "").then(pl.concat_str(pl.lit("{"), body, pl.lit("}")))


def decode_string_maps(series: pl.Series) -> pl.Series | None:
    """JSON-object text -> a struct Series with one text field per key, when every value is null
    or an object whose values are all text or null. None otherwise (invalid JSON, numbers, nested
    values): the caller then takes its row-by-row path, which keeps the exact old semantics."""
    try:
        decoded = series.str.json_decode(infer_schema_length=None)
    except pl.exceptions.PolarsError:
        return None
    dtype = decoded.dtype
    if not isinstance(dtype, pl.Struct) or decoded.null_count() != series.null_count():
        return None
    if any(f.dtype not in (pl.String(), pl.Null()) for f in dtype.fields):
        return None
    return decoded.cast(pl.Struct({f.name: pl.String for f in dtype.fields}))


def read_json_lines_text(path: Path, *, data: bytes) -> pl.DataFrame:
    """JSON lines (one object a line) with top-level scalars as text and nested values as JSON
    text, plus row_number. A line that is not a JSON object is an error naming the line."""
    text = decode_text(data, path)
    records: list[dict[str, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=str, parse_int=str)
        except ValueError as exc:
            raise InputError(f"not a JSON object: {exc}", path=path, row=number) from None
        except RecursionError:
            raise InputError(
                "nested too deeply to read (thousands of levels): expected one flat JSON object a line",
                path=path,
                row=number,
            ) from None
        if not isinstance(value, dict):
            raise InputError("expected one JSON object a line", path=path, row=number)
        records.append(
            {
                k: v
                if isinstance(v, str) or v is None
                else _json_text(v)
                if isinstance(v, (list, dict))
                else str(v).lower()
                if isinstance(v, bool)
                else str(v)
                for k, v in value.items()
            }
        )
    names: list[str] = []
    for record in records:
        names.extend(k for k in record if k not in names)
    check_names(names, path)
    frame = pl.DataFrame({n: [r.get(n) for r in records] for n in names}, schema={n: pl.String for n in names})
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def round_excess_decimals(frame: pl.DataFrame, columns: list[str], *, scale: int) -> tuple[pl.DataFrame, list[str]]:
    """Money text with more than `scale` significant decimals, rounded half to even to `scale`.

    Some exports print binary doubles with up to 28 decimals (Azure amortized costs). The money
    type keeps 18; the extra digits are below a billionth of a cent and are printing noise, but
    they are never dropped silently: each column's count of rounded values and its exact total
    residual (delivered minus kept) is returned as a note for meta.loads, and raw keeps the text.
    """
    notes: list[str] = []
    pattern = r"\.\d{" + str(scale) + r"}\d*[1-9]\d*$"
    # a value with more than `scale` decimals is at least `scale` + 2 bytes long ('.' and the digits)
    present = [name for name in columns if name in frame.columns]
    longest = frame.select([pl.col(name).str.len_bytes().max() for name in present]).row(0) if present else ()
    for name, length in zip(present, longest, strict=True):
        if length is None or length < scale + 2:
            continue
        mask = frame.get_column(name).str.strip_chars().str.contains(pattern).fill_null(False)
        count = int(mask.sum())
        if not count:
            continue
        quantum = Decimal(1).scaleb(-scale)
        residual = Decimal(0)
        values = frame.get_column(name).to_list()
        for index in mask.arg_true().to_list():
            exact = Decimal(values[index].strip())
            kept = exact.quantize(quantum, rounding=ROUND_HALF_EVEN)
            residual += exact - kept
            values[index] = str(kept)
        frame = frame.with_columns(pl.Series(name, values, dtype=pl.String))
        notes.append(
            Tally(
                f"{{count}} {name} value(s) had more than {scale} decimals and were rounded half to even "
                "(exact total residual {residual:f}; the delivered text is in raw.source_rows)",
                count,
                residual,
            )
        )
    return frame, notes


def raw_records(frame: pl.DataFrame) -> pl.DataFrame:
    """row_number + the row as delivered, every value text: the lossless raw layer.

    `record` is a struct of the delivered columns, which costs nothing to make here (it wraps the
    columns); DuckDB writes it as the JSON object raw.source_rows keeps when it is inserted (or
    read back from a bundle), several times faster than encoding it in Polars. Sources that build
    their own records (one per telemetry series) give JSON text, which inserts the same way."""
    columns = [c for c in frame.columns if c != ROW]
    if not columns:
        return pl.DataFrame(schema={ROW: pl.Int64, "record": pl.String})
    return frame.select(ROW, pl.struct(columns).alias("record"))


def line_records(lines: list[tuple[int, str]]) -> pl.DataFrame:
    """row_number + a text line as delivered (exposition samples, counters), as the raw layer's
    JSON object `{"line": ...}` (a bare line of text is not JSON)."""
    frame = pl.DataFrame(lines, schema={ROW: pl.Int64, "line": pl.String}, orient="row")
    return frame.select(ROW, pl.struct("line").alias("record"))


# How a file writes dates with slashes. "auto" decides from the file itself: a first part above
# 12 can only be a day (day/month/year), a second part above 12 only a day (month/day/year). When
# no value says, the order is ambiguous and the file is refused naming the setting that resolves
# it: `[dates]` in costledger.toml, per source, "mdy" or "dmy".
DATE_ORDERS = ("auto", "mdy", "dmy")
# 4/1/25, 04/01/2025, 4/1/2025 12:00:00 AM, 04/01/2025 13:05, ... (+ an optional zone)
_SLASHED = (
    r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?$"
)
# 31.01.2026 (day.month.year wherever dots are written), with an optional time and zone
_DOTTED = (
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?$"
)
_SLASH_START, _DOT_START = r"^\s*\d{1,2}/", r"^\s*\d{1,2}\.\d"
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _null_tokens(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().replace(list(NULL_TOKENS), None)


def _two(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.zfill(2)


def _year(text: pl.Expr) -> pl.Expr:
    """A 2-digit year as POSIX %y reads it (69-99: 1900s, 00-68: 2000s); 4 digits as written."""
    short = text.cast(pl.Int32, strict=False)
    return (
        pl.when(text.str.len_chars() == 2)
        .then(pl.when(short >= 69).then(short + 1900).otherwise(short + 2000).cast(pl.String))
        .otherwise(text)
    )


def _clock(parts: pl.Expr) -> pl.Expr:
    """` HH:MM:SS[.f]` of the time groups (4: hour, 5: minute, 6: second, 7: fraction, 8: AM/PM),
    empty without a time; null for an hour a 12-hour clock cannot have."""
    hour = parts.struct.field("4").cast(pl.Int32, strict=False)
    meridiem = parts.struct.field("8").str.to_uppercase()
    hour = (
        pl.when(meridiem.is_null())
        .then(hour)
        .when((hour < 1) | (hour > 12))
        .then(None)
        .when(meridiem == "AM")
        .then(hour % 12)
        .otherwise(hour % 12 + 12)
    )
    clock = pl.concat_str(
        pl.lit(" "),
        _two(hour),
        pl.lit(":"),
        parts.struct.field("5"),
        pl.lit(":"),
        parts.struct.field("6").fill_null("00"),
        parts.struct.field("7").fill_null(""),
    )
    return pl.when(parts.struct.field("4").is_null()).then(pl.lit("")).otherwise(clock)


def _as_iso(text: pl.Expr, pattern: str, order: str) -> pl.Expr:
    """Text matching `pattern` (day, month and year in the `order` given) as ISO text; null
    where it does not match."""
    parts = text.str.extract_groups(pattern).struct.rename_fields([str(i) for i in range(1, 10)])
    first, second = parts.struct.field("1"), parts.struct.field("2")
    month, day = (first, second) if order == "mdy" else (second, first)
    iso = pl.concat_str(
        _year(parts.struct.field("3")),
        pl.lit("-"),
        _two(month),
        pl.lit("-"),
        _two(day),
        _clock(parts),
        parts.struct.field("9").fill_null(""),
    )
    return pl.when(parts.struct.field("1").is_not_null()).then(iso)


def _timestamps(text: pl.Series, order: str | None, dotted: bool) -> pl.Series:
    """Date or timestamp text -> naive UTC datetimes (see parse_timestamp), null where a value is
    none of the forms read. Step by step on the whole column, each step computed once: the values
    are brought to one shape with cheap string steps and parsed once with a plain format (a
    failed, fractional or zone-aware parse costs several times more), then the fraction is
    added and the offset subtracted. Slash and dotted dates are rewritten as ISO first, only
    when the file has them (`order`, `dotted`): that costs a regex pass."""
    frame = pl.DataFrame({"t": text.cast(pl.String)})
    value = pl.col("t")
    if order in ("mdy", "dmy"):
        frame = frame.with_columns(pl.coalesce(_as_iso(value, _SLASHED, order), value).alias("t"))
    if dotted:
        frame = frame.with_columns(pl.coalesce(_as_iso(value, _DOTTED, "dmy"), value).alias("t"))
    frame = frame.with_columns(
        value.str.strip_suffix("Z").str.strip_suffix(" UTC").str.replace("T", " ", literal=True, n=1)
    )
    frame = frame.with_columns(value.str.extract(r"[+-]\d{2}:?\d{2}$", 0).alias("offset"))
    if frame.get_column("offset").null_count() < frame.height:
        kept = value.str.len_chars() - pl.col("offset").str.len_chars().fill_null(0)
        frame = frame.with_columns(value.str.slice(0, kept))
    if frame.get_column("t").str.contains(".", literal=True).any():
        parts = frame.get_column("t").str.split_exact(".", 1)
        frame = frame.with_columns(
            parts.struct.field("field_0").alias("t"), parts.struct.field("field_1").alias("fraction")
        )
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("fraction"))
    frame = frame.with_columns(
        pl.when(~value.str.contains(" ", literal=True))
        .then(pl.concat_str(value, pl.lit(" 00:00:00")))
        .when(value.str.count_matches(":", literal=True) == 1)
        .then(pl.concat_str(value, pl.lit(":00")))
        .otherwise(value)
        .str.strptime(pl.Datetime("us"), _TIMESTAMP_FORMAT, strict=False)
    )
    fraction, offset = pl.col("fraction"), pl.col("offset")
    micros = pl.when(fraction.str.contains(r"^\d{1,9}$")).then(
        fraction.str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64)
    )
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    minutes = sign * (offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(-2, 2).cast(pl.Int64))
    parsed = pl.col("t") + pl.duration(microseconds=micros.fill_null(0)) - pl.duration(minutes=minutes.fill_null(0))
    valid = fraction.is_null() | micros.is_not_null()
    return frame.select(pl.when(valid).then(parsed)).to_series().alias(text.name)


def parse_timestamp(expr: pl.Expr, *, order: str | None = None, dotted: bool = False) -> pl.Expr:
    """Stripped text -> naive UTC datetime. ISO with `T` or a space, with or without seconds and
    fraction, `Z`, ` UTC` or a numeric offset (converted to UTC), or a date alone (midnight);
    with `dotted`, 31.01.2026 dates; and month/day/year or day/month/year slash dates (2-digit
    years too, a 12-hour clock with AM/PM) when `order` ("mdy" or "dmy") says which."""
    return expr.map_batches(
        lambda text: _timestamps(text, order, dotted), return_dtype=pl.Datetime("us"), is_elementwise=True
    )


def parse_date(expr: pl.Expr, *, order: str | None = None, dotted: bool = False) -> pl.Expr:
    """Text -> date: the forms parse_timestamp reads (a timestamp gives its UTC day)."""
    return expr.map_batches(
        lambda text: _timestamps(text, order, dotted).dt.date(), return_dtype=pl.Date, is_elementwise=True
    )


_EXPECTED = {
    Kind.MONEY: f"an exact decimal number within +/-{AMOUNT_LIMIT_TEXT} (e.g. 12.34)",
    Kind.QUANTITY: "an exact decimal number within +/-1e20",
    Kind.DECIMAL: "a decimal number",
    Kind.RATE: "a decimal number with at most 10 decimals",
    Kind.INT: "a whole number",
    Kind.DATE: "a date like 2026-01-31 or 01/31/2026",
    Kind.TIMESTAMP: "a timestamp like 2026-01-31 23:00:00, 2026-01-31T23:00:00Z or 01/31/2026 23:00",
}
# what a date or timestamp was expected to look like, once the file's slash-date order is known
_EXPECTED_ORDERED = {
    (Kind.DATE, "mdy"): "a date like 2026-01-31 or 01/31/2026 (month/day/year, as this file writes its dates)",
    (Kind.DATE, "dmy"): "a date like 2026-01-31 or 31/01/2026 (day/month/year, as this file writes its dates)",
    (Kind.TIMESTAMP, "mdy"): (
        "a timestamp like 2026-01-31T23:00:00Z or 01/31/2026 23:00 (month/day/year, as this file writes its dates)"
    ),
    (Kind.TIMESTAMP, "dmy"): (
        "a timestamp like 2026-01-31T23:00:00Z or 31/01/2026 23:00 (day/month/year, as this file writes its dates)"
    ),
}


def _expected(kind: Kind, order: str | None) -> str:
    return _EXPECTED_ORDERED.get((kind, order or ""), _EXPECTED.get(kind, "text"))


def _matching(series: pl.Series, start: str, pattern: str) -> pl.Series:
    """The distinct values of a text column that match `pattern` whole (stripped), looked for
    only among those that begin like it (`start`: an anchored test, cheap on a long column)."""
    texts = series.filter(series.str.contains(start).fill_null(False)).unique().str.strip_chars()
    return texts.filter(texts.str.contains(pattern))


def _has(series: pl.Series, start: str, pattern: str) -> bool:
    return series.dtype == pl.String and not _matching(series, start, pattern).is_empty()


def date_order(
    values: list[pl.Series], setting: str = "auto", *, default: str | None = None
) -> tuple[str | None, str | None]:
    """The day/month order of a file's slash dates: (order, None), or (None, the reason it is
    unknown) when the file has slash dates and neither `setting` nor the values decide (a file
    without whole slash dates gives (None, None): there is nothing to decide). `values` are the file's
    date and timestamp columns; `default` is a format's documented order, used when the values
    agree with both readings (Azure writes month/day/year)."""
    if setting not in DATE_ORDERS:
        raise ValueError(f"unknown date order {setting!r}: expected one of {list(DATE_ORDERS)}")
    distinct = [_matching(s, _SLASH_START, _SLASHED) for s in values if s.dtype == pl.String]
    parts = (pl.concat(distinct) if distinct else pl.Series([], dtype=pl.String)).str.extract_groups(_SLASHED)
    if parts.is_empty():
        return None, None
    if setting != "auto":
        return setting, None
    firsts, seconds = parts.struct.field("1").cast(pl.Int32), parts.struct.field("2").cast(pl.Int32)
    day_first, day_second = bool((firsts > 12).any()), bool((seconds > 12).any())
    if day_first and day_second:
        return None, _BOTH_ORDERS
    if day_first:
        return "dmy", None
    if day_second:
        return "mdy", None
    if default is not None:
        return default, None
    return None, (
        "its slash dates read both as month/day/year and as day/month/year (no day above 12 tells them apart); "
        'say which under [dates] in costledger.toml, e.g. billing = "mdy" (or "dmy"), and run again'
    )


@dataclass(frozen=True)
class DateForms:
    """The date forms a file writes beyond ISO: slash dates in `order` ("mdy" or "dmy"; None:
    the file has none), dotted day.month.year dates (`dotted`)."""

    order: str | None = None
    dotted: bool = False


def _typed(expr: pl.Expr, kind: Kind, forms: DateForms = DateForms()) -> pl.Expr:
    match kind:
        case Kind.TEXT:
            return expr
        case Kind.MONEY:
            amount = expr.cast(MONEY, strict=False)
            return pl.when(amount.abs() < pl.lit(AMOUNT_LIMIT, dtype=MONEY)).then(amount)
        case Kind.QUANTITY:
            return expr.cast(MONEY, strict=False)
        case Kind.DECIMAL:
            return expr.cast(pl.Decimal(38, 9), strict=False)
        case Kind.RATE:
            return (
                pl.when(expr.str.contains(r"\.\d{11,}$"))
                .then(None)
                .otherwise(expr)
                .cast(pl.Decimal(38, 10), strict=False)
            )
        case Kind.INT:
            return expr.cast(pl.Int64, strict=False)
        case Kind.DATE:
            return parse_date(expr, order=forms.order, dotted=forms.dotted)
        case Kind.TIMESTAMP:
            return parse_timestamp(expr, order=forms.order, dotted=forms.dotted)


def coerce(
    frame: pl.DataFrame,
    schema: dict[str, Col],
    *,
    path: Path,
    keep: tuple[str, ...] = (),
    dates: str = "auto",
    dates_default: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type the declared columns; return (good rows, rejects). Missing required columns are fatal.
    `keep` names columns the adapter already made (passed through untouched).

    One lazy pass: each typed value is computed once, and the failure details (column, value,
    reason) are built only for the rows that fail. Dates and timestamps (a month of hourly
    charges has 720) are parsed once per distinct text. Slash dates are read in the order
    `dates` names ("mdy", "dmy"), or with "auto" in the order the file's own values show
    (`date_order`; `dates_default` is the format's documented order); a file whose order stays
    ambiguous is an error naming the setting, as every one of its dates would be a guess."""
    missing = [name for name, col in schema.items() if col.required and name not in frame.columns]
    if missing:
        raise InputError(
            f"missing mandatory column(s) {missing}; the header has {[c for c in frame.columns if c != ROW]}",
            path=path,
            row=0,
            column=missing[0],
        )
    present = {name: col for name, col in schema.items() if name in frame.columns}
    forms = _file_date_forms(frame, present, dates, dates_default, path)
    clean = _coerce_clean(frame, schema, present, keep, forms)
    if clean is not None:
        return clean, pl.DataFrame(schema=REJECT_SCHEMA)
    can_fail = {name: col for name, col in present.items() if col.kind != Kind.TEXT or col.required}
    typed = {name: pl.col(f"_typed_{name}") if col.kind != Kind.TEXT else pl.col(name) for name, col in present.items()}
    parsed = {
        name: _typed_by_distinct(frame.get_column(name), col.kind, forms)
        for name, col in present.items()
        if col.kind in (Kind.DATE, Kind.TIMESTAMP)
    }
    parsed = {name: series for name, series in parsed.items() if series is not None}
    cleaned = (
        frame.with_columns([series.alias(f"_typed_{name}") for name, series in parsed.items()])
        .lazy()
        .select(
            ROW,
            *keep,
            *[pl.col(name).alias(f"_orig_{name}") for name in can_fail],
            *[_null_tokens(pl.col(name)).alias(name) for name in present],
            *[f"_typed_{name}" for name in parsed],
        )
        .with_columns(
            [
                _typed(pl.col(name), col.kind, forms).alias(f"_typed_{name}")
                for name, col in present.items()
                if col.kind != Kind.TEXT and name not in parsed
            ]
        )
    )
    reasons = {}
    for name, col in can_fail.items():
        value = pl.col(name)
        reason = pl.when(value.is_not_null() & typed[name].is_null()).then(
            pl.lit(f"expected {_expected(col.kind, forms.order)}")
        )
        if col.required:
            reason = reason.when(value.is_null()).then(pl.lit("required value is missing"))
        reasons[name] = reason
    bad = pl.any_horizontal([r.is_not_null() for r in reasons.values()]) if reasons else pl.lit(False)
    checked = cleaned.with_columns(bad.alias("_bad")).collect()
    good = checked.filter(~pl.col("_bad")) if checked.get_column("_bad").any() else checked
    # the first failing column, in declaration order, names the row's reason
    failures = [
        pl.when(reason.is_not_null()).then(
            pl.struct(pl.lit(name).alias("column"), pl.col(f"_orig_{name}").alias("value"), reason.alias("reason"))
        )
        for name, reason in reasons.items()
    ]
    failed = checked.filter(pl.col("_bad"))
    rejects = (
        failed.select(ROW, pl.coalesce(failures).struct.unnest())
        if failures and failed.height
        else pl.DataFrame(schema=REJECT_SCHEMA)
    )
    scope = _SCOPE.get()
    if scope is not None and not scope.final and forms.order is None and rejects.height:
        dated = [name for name, col in present.items() if col.kind in (Kind.DATE, Kind.TIMESTAMP)]
        if rejects.filter(pl.col("column").is_in(dated)).height:
            raise Undecided()  # a bad date's reason names the file's slash-date order, unknown yet
    good = good.select(ROW, *[typed[name].alias(name) for name in present], *keep)
    absent = {name: col for name, col in schema.items() if name not in frame.columns}
    if absent:
        good = good.with_columns([pl.lit(None).cast(_dtype(col.kind)).alias(name) for name, col in absent.items()])
    return good, rejects.cast(REJECT_SCHEMA)


def _file_date_forms(
    frame: pl.DataFrame, present: dict[str, Col], dates: str, default: str | None, path: Path
) -> DateForms:
    """The date forms the file's date columns use: the order its slash dates are read in (see
    date_order; an error naming the first such date when the file leaves it ambiguous) and
    whether it has dotted dates."""
    names = [name for name, col in present.items() if col.kind in (Kind.DATE, Kind.TIMESTAMP)]
    columns = [frame.get_column(name) for name in names]
    scope = _SCOPE.get()
    if scope is not None:
        return _chunk_date_forms(scope, frame, names, columns, dates, default, path)
    order, problem = date_order(columns, dates, default=default)
    if problem is None:
        dotted = any(_has(column, _DOT_START, _DOTTED) for column in columns)
        return DateForms(order, dotted)
    for name in names:
        first = _first_slashed(frame, name)
        if first is not None:
            _undecidable(problem, first, name, path)
    raise InputError(problem, path=path)  # unreachable: a problem comes from a slash date


def _first_slashed(frame: pl.DataFrame, name: str) -> tuple[int, str] | None:
    """(row, value) of the first whole slash date of a column, or None."""
    whole = pl.col(name).str.strip_chars().str.contains(_SLASHED).fill_null(False)
    slashed = frame.select(ROW, pl.col(name)).filter(whole)
    return slashed.row(0) if slashed.height else None


def _undecidable(problem: str, first: tuple[int, str], name: str, path: Path) -> None:
    row, value = first
    raise InputError(f"cannot tell the day from the month in {value!r}: {problem}", path=path, row=row, column=name)


_BOTH_ORDERS = (
    "the file writes slash dates both day/month/year and month/day/year "
    "(a day above 12 comes first in some, second in others)"
)


def _chunk_date_forms(
    scope: FileScope,
    frame: pl.DataFrame,
    names: list[str],
    columns: list[pl.Series],
    dates: str,
    default: str | None,
    path: Path,
) -> DateForms:
    """`_file_date_forms` for one chunk of a file: the order the whole file's slash dates give
    (see FileScope), the same errors a whole-file parse raises, and Undecided for a chunk whose
    slash dates are all ambiguous while no chunk has decided the order yet."""
    order, problem = date_order(columns, dates)  # this chunk's own answer, without the format's default
    if order is not None or problem is not None:  # the chunk has slash dates
        scope.slashed = True
        for name in names:
            if name not in scope.firsts and (first := _first_slashed(frame, name)) is not None:
                scope.firsts[name] = first

    def fail(reason: str) -> None:
        for name in names:
            if name in scope.firsts:
                _undecidable(reason, scope.firsts[name], name, path)
        raise InputError(reason, path=path)

    if order is not None and scope.order is not None and order != scope.order:
        fail(_BOTH_ORDERS)  # an earlier chunk read the other way
    if order is not None:
        scope.order = order
    elif problem == _BOTH_ORDERS:
        fail(problem)
    elif problem is not None:  # every slash date of the chunk reads both ways
        scope.ambiguous = True
        if scope.order is not None:
            order = scope.order
        elif not scope.final:
            raise Undecided()
        elif default is not None:
            order = scope.order = default
        else:
            fail(problem)
    else:  # no slash dates here: the file's order still names what a bad date should look like
        order = scope.order or (default if scope.final and scope.ambiguous else None)
    dotted = any(_has(column, _DOT_START, _DOTTED) for column in columns)
    return DateForms(order, dotted)


def _coerce_clean(
    frame: pl.DataFrame,
    schema: dict[str, Col],
    present: dict[str, Col],
    keep: tuple[str, ...],
    forms: DateForms = DateForms(),
) -> pl.DataFrame | None:
    """`coerce`'s result for a file in which no value fails, or None if any might (then `coerce`
    takes its general pass, which names each failure). A bill usually has none, and this path is
    several times cheaper: text is cleaned (spaces, null tokens) only in the columns where some
    distinct value needs it; a number is cast as delivered (if every delivered value casts,
    stripping spaces first would change none of them); dates and timestamps are parsed once per
    distinct text. Each step works on all columns at once, in parallel."""
    if any(col.kind == Kind.RATE for col in present.values()):  # a decimals rule: the general pass
        return None
    text = [name for name, col in present.items() if col.kind == Kind.TEXT]
    numbers = [name for name, col in present.items() if col.kind in (Kind.MONEY, Kind.QUANTITY, Kind.DECIMAL, Kind.INT)]
    dated = [name for name, col in present.items() if col.kind in (Kind.DATE, Kind.TIMESTAMP)]
    distinct = frame.select([pl.col(name).unique().implode() for name in (*text, *dated)])
    if any(distinct.item(0, name).len() * 8 > frame.height for name in dated):
        return None  # timestamps that mostly differ: parsing each distinct text gains nothing
    dirty = distinct.select(
        [pl.col(name).list.eval(_null_tokens(pl.element()).ne_missing(pl.element())).list.any() for name in text]
    )
    outputs = {name: _null_tokens(pl.col(name)) if dirty.item(0, name) else pl.col(name) for name in text}
    outputs |= {
        name: _typed(pl.col(name), present[name].kind)
        if present[name].kind == Kind.MONEY
        else pl.col(name).cast(_dtype(present[name].kind), strict=False)
        for name in numbers
    }
    for name in dated:
        values = distinct.item(0, name)
        parsed = (
            pl.DataFrame({"v": values})
            .select(_null_tokens(pl.col("v")).alias("cleaned"))
            .with_columns(_typed(pl.col("cleaned"), present[name].kind, forms).alias("typed"))
        )
        if parsed.filter(pl.col("cleaned").is_not_null() & pl.col("typed").is_null()).height:
            return None
        outputs[name] = pl.col(name).replace_strict(
            values, parsed.get_column("typed"), return_dtype=_dtype(present[name].kind)
        )
    typed = frame.lazy().select(ROW, *[outputs[name].alias(name) for name in present], *keep).collect()
    if any(typed.get_column(name).null_count() != frame.get_column(name).null_count() for name in numbers):
        return None
    if any(col.required and typed.get_column(name).null_count() for name, col in present.items()):
        return None
    absent = [
        pl.lit(None).cast(_dtype(col.kind)).alias(name) for name, col in schema.items() if name not in frame.columns
    ]
    return typed.with_columns(absent) if absent else typed


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


def _typed_by_distinct(series: pl.Series, kind: Kind, forms: DateForms = DateForms()) -> pl.Series | None:
    """The typed column, parsing each distinct text once; None when most values differ."""
    return map_distinct(series, lambda value: _typed(_null_tokens(value), kind, forms))


def _dtype(kind: Kind) -> pl.DataType:
    return {
        Kind.TEXT: pl.String(),
        Kind.MONEY: MONEY,
        Kind.QUANTITY: MONEY,
        Kind.DECIMAL: pl.Decimal(38, 9),
        Kind.RATE: pl.Decimal(38, 10),
        Kind.INT: pl.Int64(),
        Kind.DATE: pl.Date(),
        Kind.TIMESTAMP: pl.Datetime("us"),
    }[kind]


dtype_of = _dtype  # the Polars type a Kind is coerced to


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


def single_currency(
    frame: pl.DataFrame, target: str, fallbacks: tuple[str, ...], *, path: Path, names: str
) -> pl.DataFrame:
    """The billing currency column `target`, or the single currency a fallback column names;
    a file mixing currencies without a currency column is an error, never a guess. `names`
    spells the currency column(s) as the user knows them, for the message."""
    if target in frame.columns:
        return frame
    scope = _SCOPE.get()
    for fallback in fallbacks:
        if fallback in frame.columns:
            seen = sorted(set(frame.get_column(fallback).drop_nulls().str.strip_chars().to_list()) - {""})
            if scope is not None:  # a chunk: the currencies of the whole file so far
                known = scope.currencies.setdefault((target, fallback), set())
                known.update(seen)
                if not seen and not known and not scope.final:
                    raise Undecided()  # a later chunk may name the file's one currency
                seen = sorted(known)
            if len(seen) == 1:
                return frame.with_columns(pl.lit(seen[0]).alias(target))
            if len(seen) > 1:
                raise InputError(
                    f"the file mixes currencies {seen} but has no currency column ({names}): "
                    "amounts cannot be told apart; re-export with the currency column",
                    path=path,
                    row=0,
                    column=target,
                )
    raise InputError(f"no currency column ({names}): the billing currency is unknown", path=path, row=0, column=target)
