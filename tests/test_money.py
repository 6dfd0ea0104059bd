from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.money import MONEY, convert, display, split_exact


def _split(amount: str, weights: dict[str, int]) -> dict[str, Decimal]:
    frame = pl.LazyFrame(
        {
            "g": ["x"] * len(weights),
            "k": list(weights),
            "w": list(weights.values()),
            "a": [Decimal(amount)] * len(weights),
        }
    ).with_columns(pl.col("a").cast(MONEY))
    out = split_exact(frame, group=["g"], key=["k"], weight="w", amounts=["a"]).collect()
    return dict(zip(out["k"], out["a"], strict=True))


def test_split_three_ways_gives_leftover_to_smallest_key():
    # 1.00 / 3 = 0.333333333333333333 each (18 places) with 1 quantum left over;
    # all remainders tie, so the smallest key "a" takes it: 0.333333333333333334.
    parts = _split("1.00", {"c": 1, "a": 1, "b": 1})
    assert parts["a"] == Decimal("0.333333333333333334")
    assert parts["b"] == parts["c"] == Decimal("0.333333333333333333")
    assert sum(parts.values()) == Decimal("1.00")


def test_split_by_weights_is_exact_when_divisible():
    # 4.80 node-hour over GPU-seconds 7200 / 3600 / 3600 (of 14400): 2.40, 1.20, 1.20
    parts = _split("4.80", {"search": 7200, "__idle__": 3600, "embed": 3600})
    assert parts == {"search": Decimal("2.40"), "__idle__": Decimal("1.20"), "embed": Decimal("1.20")}


def test_split_negative_amount_adds_up():
    # -0.000000000000000007 over weights 1 and 1: floor gives -4 and -4 quanta (sum -8),
    # so one quantum goes back to the smallest key: a = -3, b = -4 quanta.
    parts = _split("-0.000000000000000007", {"a": 1, "b": 1})
    assert parts == {"a": Decimal("-3E-18"), "b": Decimal("-4E-18")}


@settings(max_examples=60, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=18, allow_nan=False),
    weights=st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
)
def test_split_always_adds_up_exactly(amount: Decimal, weights: list[int]):
    parts = _split(str(amount), {f"k{i}": w for i, w in enumerate(weights)})
    assert sum(parts.values()) == amount
    for i, w in enumerate(weights):
        if w == 0:
            assert parts[f"k{i}"] == 0


def test_convert_rounds_half_to_even_once():
    # 10.005 x 1.5 = 15.0075 exactly; 5e-18 x 0.5 = 2.5e-18 -> 2e-18 (even); 15e-18 x 0.5 = 7.5e-18 -> 8e-18
    frame = pl.DataFrame(
        {
            "a": [Decimal("10.005"), Decimal("5E-18"), Decimal("15E-18"), Decimal("-5E-18")],
            "r": [Decimal("1.5"), Decimal("0.5"), Decimal("0.5"), Decimal("0.5")],
        }
    )
    out = frame.select(convert(pl.col("a"), pl.col("r")).alias("c"))["c"].to_list()
    assert out == [Decimal("15.0075"), Decimal("2E-18"), Decimal("8E-18"), Decimal("-2E-18")]


def test_display_rounds_half_even_with_separators():
    assert display(Decimal("1234.565")) == "1,234.56"
    assert display(Decimal("1234.575")) == "1,234.58"
