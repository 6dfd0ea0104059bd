"""Exact money: parsing, conversion and splitting with no binary floats anywhere.

Amounts are `pl.Decimal(38, 18)`. Arithmetic that must not round silently (FX conversion, splits)
runs on 128-bit integer quanta (1 quantum = 1e-18 of a currency unit) with explicit rules:
- conversion rounds half to even, once per source row;
- a split gives each part floor(amount x weight / total) quanta, then hands the leftover quanta one
  each to the parts with the largest remainders (ties: smallest key first), so parts add up to the
  amount exactly and the result does not depend on row order.
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
    """amount x rate at money scale, rounded half to even; rate has at most RATE_SCALE decimals."""
    product = to_quanta(amount) * rate.cast(RATE).to_physical()
    return from_quanta(div_round_half_even(product, 10**RATE_SCALE))


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
        q = to_quanta(pl.col(column))
        product = q * pl.col("_w")
        base = product // pl.col("_total")
        remainder = product - base * pl.col("_total")
        leftover = (q.first().over(group) - base.sum().over(group))
        # rank within the group: largest remainder first, then smallest key
        rank = (
            pl.struct((pl.col("_total") - remainder).alias("r"), *[pl.col(k) for k in key])
            .rank(method="ordinal")
            .over(group)
        )
        out = out.with_columns(
            from_quanta(base + pl.when(rank.cast(pl.Int128) <= leftover).then(_i128(1)).otherwise(_i128(0))).alias(column)
        )
    return out.sort(order).drop("_w", "_total")


def allocation_share(weight: pl.Expr, total: pl.Expr) -> pl.Expr:
    """weight / total as a decimal with 18 places (truncated): what the ledger shows as the share."""
    return from_quanta((weight.cast(pl.Int128) * _i128(10**MONEY_SCALE)) // total.cast(pl.Int128))


def check_split_bounds(max_abs_quanta: int, total_weight: int) -> None:
    """Raise if amount x weight could overflow 128 bits (amounts beyond 1e20 x weights)."""
    if max_abs_quanta * total_weight > _INT128_MAX:
        raise OverflowError(f"split out of range: {max_abs_quanta} quanta x total weight {total_weight}")
