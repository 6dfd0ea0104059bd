"""Exact money: parsing, conversion and splitting with no binary floats anywhere.

Amounts are `pl.Decimal(38, 18)`. Arithmetic that must not round silently (FX conversion, splits)
runs on 128-bit integer quanta (1 quantum = 1e-18 of a currency unit) with explicit rules:
- conversion rounds half to even, once per source row;
- a split gives each part floor(amount x weight / total) quanta, then hands the leftover quanta one
  each to the parts with the largest remainders (ties: smallest key first), so parts add up to the
  amount exactly and the result does not depend on row order.

The range. The type holds magnitudes below 1e20, and so does every sum of it (DuckDB and Polars
add decimals in 128 bits: a sum beyond 1e20 is an overflow error). So an amount delivered in any
input must lie within +/-AMOUNT_LIMIT (1e12, a trillion in the file's currency): a row beyond it is
quarantined with that reason. Then a sum of fewer than 100 million amounts always fits, in the
bill's currency; converted at a rate r, fewer than 100 million / r. FX rates are below RATE_LIMIT
(1e8), so a converted amount fits too. Billed quantities (usage amounts) are not money: they keep
the type's own range. Conversion and splits split their 128-bit products so that no intermediate
value overflows for any amount the type holds (Polars integers wrap silently on overflow).
The ledger build's SQL applies the same rules with the macros of sql/ledger/passes/macros.sql.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl

from pipeline.columns import MONEY_PRECISION, MONEY_SCALE, RATE_SCALE

MONEY = pl.Decimal(MONEY_PRECISION, MONEY_SCALE)
RATE = pl.Decimal(MONEY_PRECISION, RATE_SCALE)
QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_ONE_QUANTUM = pl.lit(QUANTUM, dtype=MONEY)
INT128_MAX = 2**127 - 1  # the largest 128-bit integer: exact arithmetic stays within it
_INT128_MAX = INT128_MAX
AMOUNT_LIMIT = Decimal(10) ** 12
AMOUNT_LIMIT_TEXT = "1e12"
RATE_LIMIT = Decimal(10) ** 8
RATE_LIMIT_TEXT = "1e8"
# a split's weights must total less than this: the products it forms stay within 128 bits
WEIGHT_LIMIT = 10**19


def money(value: str | int | Decimal) -> Decimal:
    """A Python Decimal at money scale (for constants and tests)."""
    return Decimal(value).quantize(QUANTUM)


def display(value: Decimal | None, places: int = 2) -> str:
    """The one place money is rounded: for display only."""
    if value is None:
        return ""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,}"


def to_quanta(expr: pl.Expr) -> pl.Expr:
    """Money expression -> Int128 count of quanta (exact)."""
    return expr.cast(MONEY).to_physical()


def from_quanta(expr: pl.Expr) -> pl.Expr:
    """Int128 quanta -> money (exact)."""
    return expr.cast(pl.Decimal(MONEY_PRECISION, 0)) * _ONE_QUANTUM


def _i128(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int128)


def div_round_half_even(numerator: pl.Expr, denominator: int) -> pl.Expr:
    """Integer division rounded half to even (denominator > 0)."""
    d = _i128(denominator)
    q = numerator // d
    r = numerator - q * d  # floor division: 0 <= r < d, also for negative numerators
    up = (r * _i128(2) > d) | ((r * _i128(2) == d) & (q % _i128(2) != _i128(0)))
    return pl.when(up).then(q + _i128(1)).otherwise(q)


def convert(amount: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """amount x rate at money scale, rounded half to even; rate has at most RATE_SCALE decimals.

    quanta x rate / 10^RATE_SCALE is formed as high x rate + low x rate / 10^RATE_SCALE (quanta =
    high x 10^RATE_SCALE + low), so no product passes 128 bits while the result fits the type."""
    d = 10**RATE_SCALE
    quanta, r = to_quanta(amount), rate.cast(RATE).to_physical()
    high = quanta // _i128(d)  # floor: 0 <= low < d, also for negative amounts
    low_product = (quanta - high * _i128(d)) * r
    whole = low_product // _i128(d)
    rest = low_product - whole * _i128(d)
    base = high * r + whole
    up = (rest * _i128(2) > _i128(d)) | ((rest * _i128(2) == _i128(d)) & (base % _i128(2) != _i128(0)))
    return from_quanta(pl.when(up).then(base + _i128(1)).otherwise(base))


def split_exact(
    frame: pl.LazyFrame,
    *,
    group: list[str],
    key: list[str],
    weight: str,
    amounts: list[str],
) -> pl.LazyFrame:
    """Split each group's amounts over its rows in proportion to `weight`, exactly.

    `frame` has one row per (group, part): the group's amounts repeated on each of its rows, and
    the part's non-negative integer weight. Each amount column is replaced by the part's share.
    Parts add up to the group's amount to the last quantum. `allocation_share` = weight / total.
    A group whose weights sum to 0 is an error of the caller (it must route such cost elsewhere).
    """
    total = pl.col(weight).sum().over(group)
    out = frame.with_columns(
        pl.col(weight).cast(pl.Int128).alias("_w"),
        total.cast(pl.Int128).alias("_total"),
    )
    order = [*group, *key]
    for column in amounts:
        # q x w / total as (whole x total + part) x w / total: whole x w + part x w / total, where
        # 0 <= part < total, so no product passes 128 bits while total < WEIGHT_LIMIT (weights are
        # GPU-milliseconds, seconds, shares, or cents of cost, which pipeline.ledger.billing_allocation bounds)
        q = to_quanta(pl.col(column))
        whole = q // pl.col("_total")
        part_product = (q - whole * pl.col("_total")) * pl.col("_w")
        part_base = part_product // pl.col("_total")
        base = whole * pl.col("_w") + part_base
        remainder = part_product - part_base * pl.col("_total")
        leftover = q.first().over(group) - base.sum().over(group)
        # rank within the group: largest remainder first, then smallest key
        rank = (
            pl.struct((pl.col("_total") - remainder).alias("r"), *[pl.col(k) for k in key])
            .rank(method="ordinal")
            .over(group)
        )
        out = out.with_columns(
            from_quanta(base + pl.when(rank.cast(pl.Int128) <= leftover).then(_i128(1)).otherwise(_i128(0))).alias(
                column
            )
        )
    return out.sort(order).drop("_w", "_total")


def allocation_share(weight: pl.Expr, total: pl.Expr) -> pl.Expr:
    """weight / total as a decimal with 18 places (truncated): what the ledger shows as the share."""
    return from_quanta((weight.cast(pl.Int128) * _i128(10**MONEY_SCALE)) // total.cast(pl.Int128))


def check_split_bounds(max_abs_quanta: int, total_weight: int) -> None:
    """Raise if amount x weight could overflow 128 bits (amounts beyond 1e20 x weights)."""
    if max_abs_quanta * total_weight > _INT128_MAX:
        raise OverflowError(f"split out of range: {max_abs_quanta} quanta x total weight {total_weight}")
