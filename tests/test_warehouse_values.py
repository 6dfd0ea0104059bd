"""warehouse.insert_values: many rows per statement, each value as exact as one row at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from pipeline.warehouse import ROWS_PER_INSERT, first_row, insert_values


@pytest.fixture
def con():
    with duckdb.connect() as con:
        con.execute("create table t (n integer, name varchar, amount decimal(38, 18), rate double, day date)")
        yield con


def test_rows_past_one_statement_keep_every_value_exactly(con):
    # 2 full statements and 50 rows more (ROWS_PER_INSERT = 200): 450 rows, none lost or doubled;
    # an 18-place decimal and a null go in unchanged
    assert ROWS_PER_INSERT == 200
    rows = [
        (n, None if n % 7 == 0 else f"row {n}", Decimal("123456789.123456789012345678") + n, n / 4, date(2026, 1, 1))
        for n in range(450)
    ]
    insert_values(con, "insert into t", rows)
    assert con.execute("select * from t order by n").fetchall() == rows


def test_a_row_template_casts_and_no_rows_write_nothing(con):
    insert_values(con, "insert into t (n, amount)", [(1, "0.10"), (2, "2.5")], row="(?, ?::decimal(38, 18))")
    insert_values(con, "insert into t", [])
    assert con.execute("select n, amount, name from t order by n").fetchall() == [
        (1, Decimal("0.1"), None),
        (2, Decimal("2.5"), None),
    ]


def test_first_row_leaves_the_connection_free_for_a_relation(con):
    # DuckDB keeps a result fetchone() left unfinished open on its connection, and a relation run
    # there next fails; first_row reads its result to the end
    insert_values(con, "insert into t (n)", [(1,), (2,), (3,)])
    assert first_row(con, "select n from t order by n") == (1,)
    assert con.sql("select count(*) from t").fetchall() == [(3,)]
    assert first_row(con, "select n from t where n > ?", [5]) is None
