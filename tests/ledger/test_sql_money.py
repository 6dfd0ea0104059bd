"""The build's exact-money SQL macros (sql/ledger/passes/macros.sql) against Python's integers and
pipeline.money: a DOUBLE estimate corrected exactly must give the same integer as long division,
at every magnitude a 128-bit quantum count can have."""

from __future__ import annotations

import random
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipeline.ledger.build import query
from pipeline.money import INT128_MAX, MONEY, RATE, convert


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(query("macros"))
    yield connection
    connection.close()


def _text(quanta: int, places: int) -> str:
    """The decimal text of `quanta` x 10^-places, exactly (Decimal's context would round)."""
    sign = "-" if quanta < 0 else ""
    whole, fraction = divmod(abs(quanta), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def _pairs(seed: int, count: int) -> list[tuple[int, int]]:
    """(n, d > 0) at every magnitude up to 2^127, and the edges: exact multiples, one off."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.choice(
            [
                rng.randrange(-10, 10),
                rng.randrange(-(10**18), 10**18),
                rng.randrange(-(10**30), 10**30),
                rng.randrange(-INT128_MAX // 4, INT128_MAX // 4),
            ]
        )
        d = rng.choice([1, 2, 3, 7, 10**9, 10**10, 10**18, rng.randrange(1, 2**53), rng.randrange(1, 10**24)])
        out.append((n, d))
        q = n // d
        out += [(q * d, d), (q * d - 1, d), (q * d + 1, d)]  # exact multiples and their neighbours
        # the bounded form's hardest case: a quotient just under 1e30, as far from DOUBLE's reach
        # as it goes, over a divisor of up to 2^26 (so n stays within 2^126)
        q = rng.choice([1, -1]) * (10**30 - 1 - rng.randrange(10**12))
        d = rng.randrange(1, 2**26)
        out += [(q * d + r, d) for r in (0, d - 1, rng.randrange(d))]
    return [(n, d) for n, d in out if abs(n) <= INT128_MAX // 2]


def test_floor_div_and_round_half_even_equal_python(con: duckdb.DuckDBPyConnection) -> None:
    pairs = _pairs(1, 3000)
    got = con.execute(
        "select n, d, floor_div(n, d) as f, even_round(n, d, floor_div(n, d)) as e, floor_div_bounded(n, d) as b "
        "from (select unnest(?)::hugeint as n, unnest(?)::hugeint as d)",
        [[str(n) for n, _ in pairs], [str(d) for _, d in pairs]],
    ).fetchall()
    for n, d, f, e, b in got:
        assert f == n // d, (n, d)
        if abs(n // d) < 10**30:  # the bounded form's promise
            assert b == n // d, (n, d)
        # half to even: 7/2 = 3.5 -> 4, 5/2 = 2.5 -> 2, -5/2 = -2.5 -> -2
        q, r = divmod(n, d)
        assert e == q + (1 if 2 * r > d or (2 * r == d and q % 2) else 0), (n, d)
    # by hand: 7 // 2 = 3, -7 // 2 = -4 (floor, not toward zero); 5/2 = 2.5 -> 2, 7/2 -> 4, -5/2 -> -2
    assert con.execute("select floor_div(7::hugeint, 2::hugeint), floor_div(-7::hugeint, 2::hugeint)").fetchone() == (
        3,
        -4,
    )
    assert con.execute(
        "select even_round(5::hugeint, 2::hugeint, 2::hugeint), even_round(7::hugeint, 2::hugeint, 3::hugeint), "
        "even_round(-5::hugeint, 2::hugeint, -3::hugeint)"
    ).fetchone() == (2, 4, -2)


def test_quanta_of_decimals_are_exact_at_every_magnitude(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(2)
    quanta = [0, 1, -1, 10**38 - 1, -(10**38 - 1)] + [
        rng.randrange(-(10**k), 10**k) for k in range(1, 39) for _ in range(20)
    ]
    amounts = [_text(q, 18) for q in quanta]
    got = con.execute("select money_quanta(unnest(?)::decimal(38, 18))", [amounts]).fetchall()
    assert [row[0] for row in got] == quanta
    # money_of is the inverse: 1.5 is 1,500,000,000,000,000,000 quanta
    assert con.execute("select money_of(1500000000000000000::hugeint)").fetchone()[0] == Decimal("1.5")
    rates = [rng.randrange(0, 10**k) for k in range(1, 20) for _ in range(20)]
    got = con.execute("select rate_quanta(unnest(?)::decimal(38, 10))", [[_text(r, 10) for r in rates]]).fetchall()
    assert [row[0] for row in got] == rates


def test_conversion_equals_pipeline_money_convert(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(3)
    # every magnitude up to the declared range: amounts within 1e12, rates below 1e8
    amounts = [Decimal(_text(rng.randrange(-(10**k), 10**k), 18)) for k in (6, 18, 24, 30) for _ in range(125)]
    rates = [Decimal(_text(rng.randrange(1, 10**k), 10)) for k in (8, 10, 12, 18) for _ in range(125)]
    rng.shuffle(rates)
    # the edges: the largest amount at the largest rate, both signs; 5e-18 x 0.1 = 5e-19 is half a
    # quantum: to even, 0; 15e-18 x 0.1 = 1.5 quanta: to even, 2 quanta
    amounts += [
        Decimal("999999999999.999999999999999999"),
        Decimal("-999999999999.999999999999999999"),
        Decimal("0.000000000000000005"),
        Decimal("0.000000000000000015"),
    ]
    rates += [Decimal("99999999.9999999999"), Decimal("99999999.9999999999"), Decimal("0.1"), Decimal("0.1")]
    frame = pl.DataFrame({"a": amounts, "r": rates}, schema={"a": MONEY, "r": RATE})
    expected = frame.select(convert(pl.col("a"), pl.col("r"))).to_series().to_list()
    got = con.execute(
        "select money_of(convert_round(hi, r, n, floor_div_bounded(n, 10000000000::hugeint))) from "
        "(select *, convert_low(q, hi, r) as n from (select *, convert_hi(q) as hi from "
        "(select money_quanta(a) as q, rate_quanta(r) as r, ordinality from "
        "(select unnest(?)::decimal(38, 18) as a, unnest(?)::decimal(38, 10) as r, unnest(range(?)) as ordinality)))) "
        "order by ordinality",
        [[str(a) for a in amounts], [str(r) for r in rates], len(amounts)],
    ).fetchall()
    assert [row[0] for row in got] == expected
    assert expected[-2:] == [Decimal(0), Decimal("0.000000000000000002")]
    # the largest: 999,999,999,999.999999999999999999 x 99,999,999.9999999999, exactly by hand
    # (Python's integers): the quanta product / 1e10, rounded half to even
    q, r = 999999999999999999999999999999, 999999999999999999
    whole, rest = divmod(q * r, 10**10)
    assert got[-4][0] == Decimal(
        _text(whole + (1 if 2 * rest > 10**10 or (2 * rest == 10**10 and whole % 2) else 0), 18)
    )
