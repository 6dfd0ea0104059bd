"""How amounts are shown to a reader: the one display rounding (half-even, thousands separators)
and the signed, percent and interval forms built on it. Amounts stay exact `Decimal`s everywhere
else; they are rounded only here, on their way into a page, a summary or a recommendation's text.

Nothing in the pipeline is imported here, so any module (the report, the recommendations) can
use it without importing the other.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

# Enough digits for any DECIMAL(38, 18) value: quantize never runs out of precision.
_EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN)


def format_money(d: Decimal, places: int = 2) -> str:
    """The one display rounding: half-even to `places` decimals, with thousands separators."""
    with localcontext(_EXACT):
        rounded = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if rounded.is_zero():
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:,f}"


def signed(d: Decimal, places: int = 2) -> str:
    """format_money with an explicit "+" for increases."""
    text = format_money(d, places)
    return "+" + text if d > 0 and text.strip("0.,") else text


def percent(value: Decimal | float | None, places: int = 1, na: str = "n/a") -> str:
    """A relative change as a signed percent for reading ('-30.0 %'), `na` when unknown."""
    if value is None:
        return na
    return signed(Decimal(repr(value)) * 100 if isinstance(value, float) else value * 100, places) + " %"


def interval_text(low: float | None, high: float | None, places: int = 1, na: str = "n/a") -> str:
    """'[-31.1 %, -27.8 %]' or `na`."""
    if low is None or high is None:
        return na
    return f"[{percent(low, places)}, {percent(high, places)}]"
