"""Reading a delivered file as text, nothing lost: CSV, JSON lines and Parquet to an all-text
frame with row numbers (nested values as JSON text), the file's bytes (gunzipped) and decoded text,
and the checks on its column names."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.parsed import (
    ROW,
    by_distinct,
)


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


def struct_keys(maps: pl.Series) -> list[str]:
    """The keys of a column of decoded maps (see `decode_string_maps`): its struct's fields."""
    return [f.name for f in maps.dtype.fields] if isinstance(maps.dtype, pl.Struct) else []


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
