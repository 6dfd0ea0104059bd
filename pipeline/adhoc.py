"""Ad-hoc SQL (`costledger sql`): run a read-only query under a time limit and write its result,
whatever DuckDB types it holds, as a table, CSV or JSON.

Each column is turned into something every format can write, by DuckDB, before a row leaves it:
- DECIMAL (money) as exact text without trailing zeros but with one decimal (`1.5`, `10.0`);
- lists, arrays, structs, maps and unions as JSON text (a JSON value in JSON output);
- intervals (`1 month 2 days`), blobs (`\\x00` escapes), bit strings, UUIDs, times with a zone and
  other types without a Polars or JSON twin as DuckDB's own text; HUGEINT and larger integers too
  (in JSON: numbers, all their digits);
- booleans, integers up to 64 bits, floats, text, dates, times and timestamps as they are (in
  JSON: numbers, booleans and strings; a NaN or infinite float as a string).
The result streams in batches (CSV and JSON are never held whole); a table is drawn by Polars
(first and last 100 rows), with control characters in its text cells escaped. A query still
running after `timeout` seconds is interrupted (DuckDB's interrupt, from a timer thread).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from pipeline.errors import CONTROL_CHARACTERS, CostLedgerError, escape_control

if TYPE_CHECKING:  # imported where used: the CLI reads DEFAULT_TIMEOUT at start-up
    import duckdb
    import polars as pl
    import pyarrow as pa

FORMATS: tuple[str, ...] = ("table", "csv", "json")
DEFAULT_TIMEOUT = 60.0
BATCH_ROWS = 10_000
_PLAIN = {
    "boolean",
    "tinyint",
    "smallint",
    "integer",
    "bigint",
    "utinyint",
    "usmallint",
    "uinteger",
    "ubigint",
    "float",
    "double",
    "varchar",
    "date",
    "time",
    "timestamp",
    "timestamp_s",
    "timestamp_ms",
    "timestamp_ns",
    "timestamp with time zone",
    "null",
}
_NESTED = {"list", "array", "struct", "map", "union"}
_BIG_INTEGERS = {"hugeint", "uhugeint", "bignum"}  # beyond Polars' and most readers' integers: text, in JSON a number
_FLOATS = {"float", "double"}
# money as exact text, trailing zeros dropped but one decimal kept (as in the FOCUS CSV export)
_MONEY_TEXT = "regexp_replace({col}::varchar, '(\\.\\d+?)0+$', '\\1')"


class QueryTimeout(CostLedgerError):
    """The query ran longer than its time limit and was stopped."""


def run_query(
    con: duckdb.DuckDBPyConnection, query: str, *, fmt: str, out: TextIO, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Run `query` on `con` and write its result to `out` in `fmt` (table, csv or json). Raises
    CostLedgerError when the query is refused or fails, QueryTimeout after `timeout` seconds (0: no
    limit)."""
    import duckdb

    if fmt not in FORMATS:
        raise CostLedgerError(f"--format {fmt!r}: expected table, csv or json")
    if timeout < 0:
        raise CostLedgerError(f"--timeout {timeout:g}: expected a number of seconds, 0 for no limit")
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(timeout, interrupt) if timeout else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        relation = con.sql(query)  # run once: a query is never executed twice
        if relation is None:
            return
        shown = relation.project(", ".join(_columns(relation, fmt)))
        writer = {"csv": _write_csv, "json": _write_json, "table": _write_table}[fmt]
        writer(shown.to_arrow_reader(BATCH_ROWS), out)
    except (duckdb.Error, OSError) as exc:  # a streamed batch reports DuckDB's error as an OSError
        if fired.is_set():
            raise QueryTimeout(
                f"query stopped after {timeout:g} s (--timeout): narrow it (a where clause, a limit) "
                "or allow it longer with --timeout SECONDS"
            ) from None
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CostLedgerError(f"query refused: {escape_control(first)}") from None
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()  # a timer thread left running aborts the interpreter at exit


def _names(relation: duckdb.DuckDBPyRelation) -> list[str]:
    """The result's column names, made unique (`a`, `a_1`): a frame and a JSON object need that."""
    seen: set[str] = set()
    names = []
    for name in relation.columns:
        unique, n = name, 0
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        names.append(unique)
    return names


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(relation: duckdb.DuckDBPyRelation, fmt: str) -> list[str]:
    """One projection per column (by position, so duplicate or odd names do not matter)."""
    return [
        f"{_expression(f'#{i}', kind.id, fmt)} as {_quote(name)}"
        for i, (name, kind) in enumerate(zip(_names(relation), relation.types, strict=True), start=1)
    ]


def _expression(col: str, kind: str, fmt: str) -> str:
    """A column as a type every writer takes: text, a plain scalar, or (json) JSON text."""
    if kind == "decimal":
        text = _MONEY_TEXT.format(col=col)
        return f"to_json({text})::varchar" if fmt == "json" else text
    if kind in _NESTED or (kind in _BIG_INTEGERS and fmt == "json"):
        return f"to_json({col})::varchar"
    if kind not in _PLAIN:
        return f"to_json({col}::varchar)::varchar" if fmt == "json" else f"{col}::varchar"
    if fmt != "json":
        return col
    if kind in _FLOATS:  # NaN and infinities are not JSON numbers
        return f"case when isfinite({col}) then to_json({col}) else to_json({col}::varchar) end::varchar"
    return f"to_json({col})::varchar"


def _write_csv(reader: pa.RecordBatchReader, out: TextIO) -> None:
    header = True
    for batch in _nonempty(reader):
        out.write(_frame(batch).write_csv(include_header=header))
        header = False
    if header:  # no rows: the header alone
        out.write(_frame(reader.schema.empty_table()).write_csv())


def _write_json(reader: pa.RecordBatchReader, out: TextIO) -> None:
    """A JSON array of objects, one per row (the layout of json.dumps(indent=1); a nested value on
    one line)."""
    keys = [json.dumps(name) for name in reader.schema.names]
    out.write("[")
    first = True
    for batch in reader:
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*columns, strict=True):
            fields = ",\n".join(
                f"  {key}: {'null' if value is None else value}" for key, value in zip(keys, row, strict=True)
            )
            out.write(("\n" if first else ",\n") + " {\n" + fields + "\n }")
            first = False
    out.write("]\n" if first else "\n]\n")


def _write_table(reader: pa.RecordBatchReader, out: TextIO) -> None:
    import polars as pl

    frames = [_frame(batch) for batch in _nonempty(reader)]
    frame = pl.concat(frames) if frames else _frame(reader.schema.empty_table())
    shown = [
        name
        for name, kind in frame.schema.items()
        if kind == pl.String and frame.get_column(name).str.contains(CONTROL_CHARACTERS).any()
    ]
    frame = frame.with_columns(pl.col(c).map_elements(escape_control, return_dtype=pl.String) for c in shown)
    with pl.Config(tbl_rows=200, tbl_cols=30, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        out.write(f"{frame}\n")


def _nonempty(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    return (batch for batch in reader if batch.num_rows)


def _frame(data: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    import polars as pl

    frame = pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    return frame
