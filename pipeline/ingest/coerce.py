"""Typing the columns of an all-text frame: `coerce` types each declared column, and a row with a
value that does not parse, or without a required value, goes to quarantine with its row number,
column, value and the reason; the other rows go on. Also the rounding of money to the warehouse's
scale and the one-currency rule of a file."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.dates import (
    ISO_ONLY,
    DateForms,
    expected_form,
    file_date_forms,
    parse_date,
    parse_timestamp,
)
from pipeline.ingest.parsed import (
    FILE_SCOPE,
    NULL_TOKENS,
    REJECT_SCHEMA,
    ROW,
    Col,
    Kind,
    Tally,
    Undecided,
    map_distinct,
)
from pipeline.money import AMOUNT_LIMIT, MONEY


def _null_tokens(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().replace(list(NULL_TOKENS), None)


def _typed(expr: pl.Expr, kind: Kind, forms: DateForms = ISO_ONLY) -> pl.Expr:
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
    forms = file_date_forms(frame, present, dates, dates_default, path)
    clean = _coerce_clean(frame, schema, present, keep, forms)
    if clean is not None:
        return clean, pl.DataFrame(schema=REJECT_SCHEMA)
    can_fail = {name: col for name, col in present.items() if col.kind != Kind.TEXT or col.required}
    typed = {name: pl.col(f"_typed_{name}") if col.kind != Kind.TEXT else pl.col(name) for name, col in present.items()}
    parsed: dict[str, pl.Series] = {}  # dates and timestamps parsed once per distinct text
    for name, col in present.items():
        if col.kind in (Kind.DATE, Kind.TIMESTAMP):
            series = _typed_by_distinct(frame.get_column(name), col.kind, forms)
            if series is not None:
                parsed[name] = series
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
    reasons: dict[str, pl.Expr] = {}
    for name, col in can_fail.items():
        value = pl.col(name)
        unparsed = pl.when(value.is_not_null() & typed[name].is_null()).then(
            pl.lit(f"expected {expected_form(col.kind, forms.order)}")
        )
        if col.required:
            reasons[name] = unparsed.when(value.is_null()).then(pl.lit("required value is missing"))
        else:
            reasons[name] = unparsed
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
    scope = FILE_SCOPE.get()
    if scope is not None and not scope.final and forms.order is None and rejects.height:
        dated = [name for name, col in present.items() if col.kind in (Kind.DATE, Kind.TIMESTAMP)]
        if rejects.filter(pl.col("column").is_in(dated)).height:
            raise Undecided()  # a bad date's reason names the file's slash-date order, unknown yet
    good = good.select(ROW, *[typed[name].alias(name) for name in present], *keep)
    absent = {name: col for name, col in schema.items() if name not in frame.columns}
    if absent:
        good = good.with_columns([pl.lit(None).cast(_dtype(col.kind)).alias(name) for name, col in absent.items()])
    return good, rejects.cast(REJECT_SCHEMA)


def _coerce_clean(
    frame: pl.DataFrame,
    schema: dict[str, Col],
    present: dict[str, Col],
    keep: tuple[str, ...],
    forms: DateForms = ISO_ONLY,
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


def _typed_by_distinct(series: pl.Series, kind: Kind, forms: DateForms = ISO_ONLY) -> pl.Series | None:
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


def single_currency(
    frame: pl.DataFrame, target: str, fallbacks: tuple[str, ...], *, path: Path, names: str
) -> pl.DataFrame:
    """The billing currency column `target`, or the single currency a fallback column names;
    a file mixing currencies without a currency column is an error, never a guess. `names`
    spells the currency column(s) as the user knows them, for the message."""
    if target in frame.columns:
        return frame
    scope = FILE_SCOPE.get()
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
