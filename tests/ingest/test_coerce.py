"""Typing delivered text: the quick pass for clean files and the general pass that names failures
must type every good row the same way."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipeline.ingest.parse import ROW, Col, Kind, coerce

SCHEMA = {
    "account": Col(Kind.TEXT, required=True),
    "note": Col(Kind.TEXT),
    "cost": Col(Kind.MONEY, required=True),
    "units": Col(Kind.INT),
    "day": Col(Kind.DATE),
    "start": Col(Kind.TIMESTAMP),
    "missing": Col(Kind.MONEY),
}


def _frame(rows: list[tuple[str | None, ...]]) -> pl.DataFrame:
    names = ["account", "note", "cost", "units", "day", "start"]
    frame = pl.DataFrame(rows, schema={n: pl.String for n in names}, orient="row")
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


# 40 rows: hours and days repeat (so both passes parse timestamps once per distinct text),
# text with spaces and null tokens, costs as delivered
GOOD = [
    (
        " a1 ",
        "NULL" if i % 3 == 0 else f"n{i % 2}",
        f"{i}.25",
        str(i),
        "2026-02-0" + str(1 + i % 3),
        f"2026-02-01T0{i % 4}:00:00Z",
    )
    for i in range(40)
]


def test_a_bad_row_changes_nothing_in_how_the_others_are_typed() -> None:
    clean, none = coerce(_frame(GOOD), SCHEMA, path=Path("x.csv"))
    # one bad cost sends the file through the general pass; the 40 good rows must come out alike
    mixed, rejects = coerce(
        _frame([*GOOD, ("a1", None, "12,5", "1", "2026-02-01", "2026-02-01")]), SCHEMA, path=Path("x.csv")
    )
    assert none.is_empty()
    assert rejects.rows() == [(41, "cost", "12,5", "expected an exact decimal number within +/-1e12 (e.g. 12.34)")]
    assert mixed.equals(clean)
    # by hand, row 1 (i = 0): ' a1 ' stripped, 'NULL' a null, 0.25 exact, hour 00 of 1 February
    assert clean.row(0) == (1, "a1", None, Decimal("0.25"), 0, date(2026, 2, 1), datetime(2026, 2, 1, 0), None)
    assert clean.row(3)[5:7] == (date(2026, 2, 1), datetime(2026, 2, 1, 3))  # i = 3: day 1 + 3 % 3, hour 3 % 4
    assert clean.get_column("cost").sum() == Decimal("790")  # 0 + 1 + ... + 39 = 780, plus 40 * 0.25 = 10


def test_a_null_token_in_a_required_column_is_quarantined_not_loaded() -> None:
    rows = [*GOOD[:5], (" null ", None, "1", "1", "2026-02-01", "2026-02-01")]
    good, rejects = coerce(_frame(rows), SCHEMA, path=Path("x.csv"))
    assert good.height == 5
    assert rejects.rows() == [(6, "account", " null ", "required value is missing")]


def test_timestamps_that_do_not_parse_are_named_even_when_they_repeat() -> None:
    rows = [*GOOD, *[("a1", None, "1", "1", "2026-02-01", "yesterday")] * 10]
    good, rejects = coerce(_frame(rows), SCHEMA, path=Path("x.csv"))
    assert good.height == 40
    assert rejects.get_column(ROW).to_list() == list(range(41, 51))
    assert set(rejects.get_column("column")) == {"start"}
