"""Why did it change: month-over-month cost per model and category split into volume, mix and
price (marts.price_volume_mix), exactly.

For a model and category, the items are its subcategories with their quantity unit (GPU-hours of
gpu_compute, kWh of energy, person-days of labor, ...). With V the model's requests in the month,
q an item's quantity and p = its cost / q:
  volume = (V - V_prev) x cost_prev / V_prev           (more or fewer requests, at last month's cost per request)
  price  = sum over items of q x (p - p_prev)           (each unit got dearer or cheaper: rates, discounts, FX)
  mix    = change - volume - price                      (= V x sum of (q/V - q_prev/V_prev) x p_prev: more, fewer
                                                          or other resources per request)
so volume + mix + price = change exactly. Rules: an item without a quantity (or with none in a
month it has cost in) takes the requests as its quantity; a new item has no price change (its cost
is mix), a vanished one only mix; a model without requests in either month has V = 1 (no volume
effect). Volume and price are exact to 80 digits and rounded half-even to 18 decimals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import duckdb

from pipeline import warehouse
from pipeline.impact import EXACT

QUANTUM = Decimal(1).scaleb(-18)


@dataclass(frozen=True)
class Item:
    """One subcategory (and quantity unit) of a model's category in a month."""

    cost: Decimal
    quantity: Decimal | None  # None: no quantity stated


@dataclass(frozen=True)
class Effects:
    previous_cost: Decimal
    cost: Decimal
    volume: Decimal
    mix: Decimal
    price: Decimal

    @property
    def change(self) -> Decimal:
        return self.cost - self.previous_cost


def _volume(requests: int | None) -> Decimal:
    return Decimal(requests) if requests else Decimal(0)


def decompose(
    previous: Mapping[str, Item],
    current: Mapping[str, Item],
    *,
    previous_requests: int | None,
    requests: int | None,
) -> Effects:
    """Split the change from `previous` to `current` items (by item key) into volume, mix and price."""
    zero = Decimal(0)
    v_prev, v_cur = _volume(previous_requests), _volume(requests)
    if v_prev.is_zero() or v_cur.is_zero():
        v_prev = v_cur = Decimal(1)  # no usable volume: nothing is a volume effect
    with localcontext(EXACT):
        cost_prev = sum((i.cost for i in previous.values()), zero)
        cost_cur = sum((i.cost for i in current.values()), zero)
        volume = (v_cur - v_prev) * cost_prev / v_prev
        price = zero
        for key in set(previous) | set(current):
            before, now = previous.get(key), current.get(key)
            if before is None or now is None:
                continue  # new or vanished: no price change
            q_prev, q_cur = before.quantity, now.quantity
            if not q_prev or not q_cur or q_prev < 0 or q_cur < 0:
                q_prev, q_cur = v_prev, v_cur  # no quantity: requests stand for it
            price += now.cost - q_cur * before.cost / q_prev
        volume = volume.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
        price = price.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
        mix = cost_cur - cost_prev - volume - price
    return Effects(cost_prev, cost_cur, volume, mix, price)


def previous_month(month: str) -> str:
    first = date.fromisoformat(month + "-01")
    return (first - timedelta(days=1)).strftime("%Y-%m")


def next_month(month: str) -> str:
    first = date.fromisoformat(month + "-01")
    return (first.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")


def refresh(con: duckdb.DuckDBPyConnection, months: list[str]) -> int:
    """Replace marts.price_volume_mix rows of `months` (each against the month before it; a month
    whose previous month has no ledger rows gets none), inside the caller's transaction."""
    pairs = [(m, previous_month(m)) for m in months]
    wanted = sorted({m for pair in pairs for m in pair})
    span = {"start": date.fromisoformat(wanted[0] + "-01"), "end": date.fromisoformat(next_month(wanted[-1]) + "-01")}
    items: dict[tuple[str, str, str, str], dict[str, Item]] = defaultdict(dict)
    for month, model, category, currency, subcategory, unit, cost, quantity in con.execute(
        warehouse.sql_text("publish", "cost_items"), span
    ).fetchall():
        if month not in wanted:
            continue
        key = f"{subcategory}|{unit or ''}"
        items[(month, model, category, currency)][key] = Item(cost, quantity if unit else None)
    volumes = con.execute(warehouse.sql_text("publish", "monthly_requests"), span).fetchall()
    requests = {(m, model): r for m, model, r in volumes}
    present = {key[0] for key in items}
    rows = []
    for month, before in pairs:
        con.execute("delete from marts.price_volume_mix where month = ?", [month])
        if month not in present or before not in present:
            continue
        cells = sorted({k[1:] for k in items if k[0] in (month, before)})
        for model, category, currency in cells:
            e = decompose(
                items.get((before, model, category, currency), {}),
                items.get((month, model, category, currency), {}),
                previous_requests=requests.get((before, model)),
                requests=requests.get((month, model)),
            )
            rows.append(
                (
                    month,
                    before,
                    model,
                    category,
                    currency,
                    e.previous_cost,
                    e.cost,
                    e.change,
                    e.volume,
                    e.mix,
                    e.price,
                    requests.get((before, model)),
                    requests.get((month, model)),
                )
            )
    warehouse.insert_values(con, "insert into marts.price_volume_mix", rows)
    return len(rows)
