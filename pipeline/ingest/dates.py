"""Dates and timestamps as delivered: ISO, slashed (month or day first) and dotted forms parsed to
UTC, the day/month order of a file's slash dates decided from its values (or the source's
setting), across the chunks of one file too, and the forms a message says are expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.parsed import (
    FILE_SCOPE,
    ROW,
    Col,
    FileScope,
    Kind,
    Undecided,
)
from pipeline.money import AMOUNT_LIMIT_TEXT

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


def expected_form(kind: Kind, order: str | None) -> str:
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


ISO_ONLY = DateForms()  # a file whose dates are all ISO


def file_date_forms(
    frame: pl.DataFrame, present: dict[str, Col], dates: str, default: str | None, path: Path
) -> DateForms:
    """The date forms the file's date columns use: the order its slash dates are read in (see
    date_order; an error naming the first such date when the file leaves it ambiguous) and
    whether it has dotted dates."""
    names = [name for name, col in present.items() if col.kind in (Kind.DATE, Kind.TIMESTAMP)]
    columns = [frame.get_column(name) for name in names]
    scope = FILE_SCOPE.get()
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
    """`file_date_forms` for one chunk of a file: the order the whole file's slash dates give
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
