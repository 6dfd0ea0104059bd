"""marts.price_volume_mix (pipeline.marts.drivers): month-over-month change split into volume, mix
and price, worked by hand; the three add up to the change exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipeline.marts import drivers
from pipeline.marts.drivers import Item, decompose
from pipeline.marts.forecast import kept_through
from tests.marts.conftest import add_cost, add_requests

D = Decimal


def test_volume_mix_and_price_by_hand() -> None:
    # GPU time: 100 GPU-hours for 200.00 (2.00 an hour) -> 90 GPU-hours for 198.00 (2.20 an hour);
    # requests 1000 -> 1200. Change 198 - 200 = -2.
    # volume = (1200 - 1000) x 200 / 1000 = 40 (20 % more requests at 0.20 a request)
    # price  = 90 x (2.20 - 2.00) = 18 (each hour dearer)
    # mix    = -2 - 40 - 18 = -60 = 1200 x (90/1200 - 100/1000) x 2.00: 0.075 instead of 0.1 GPU-hours a request
    gpu = "gpu_compute|GPU-hours"
    e = decompose({gpu: Item(D(200), D(100))}, {gpu: Item(D(198), D(90))}, previous_requests=1000, requests=1200)
    assert (e.change, e.volume, e.price, e.mix) == (D(-2), D(40), D(18), D(-60))


def test_items_without_a_quantity_and_new_items() -> None:
    # as above, plus a licence of 50.00 both months with no quantity (requests stand in: 0.05 a
    # request, then 50 / 1200), plus new storage of 30.00 (300 GB) this month.
    # volume = 200 x (200 + 50) / 1000 = 50
    # price  = 18 (GPU) + (50 - 1200 x 50 / 1000 = -10) (licence: cheaper per request) = 8;
    #          storage is new: no price change
    # change = (198 + 50 + 30) - (200 + 50) = 28; mix = 28 - 50 - 8 = -30 (-60 from GPU, +30 new storage)
    previous = {"gpu|GPU-hours": Item(D(200), D(100)), "licence|": Item(D(50), None)}
    current = {"gpu|GPU-hours": Item(D(198), D(90)), "licence|": Item(D(50), None), "storage|GB": Item(D(30), D(300))}
    e = decompose(previous, current, previous_requests=1000, requests=1200)
    assert (e.change, e.volume, e.price, e.mix) == (D(28), D(50), D(8), D(-30))


def test_without_requests_nothing_is_volume_and_thirds_still_add_up() -> None:
    # an idle bucket: no requests, so V = 1 both months and no volume effect. 100.00 for 3 units
    # (33.333... each) -> 100.00 for 4 units: price = 100 - 4 x 100 / 3 = -33.333333333333333333
    # (rounded half-even to 18 decimals); mix takes the rest, +33.333333333333333333, exactly
    e = decompose({"x|u": Item(D(100), D(3))}, {"x|u": Item(D(100), D(4))}, previous_requests=None, requests=None)
    assert e.volume == 0
    assert e.price == D("-33.333333333333333333")
    assert e.mix == D("33.333333333333333333")
    assert e.volume + e.mix + e.price == e.change == 0


def test_refresh_from_the_ledger(con) -> None:
    # m: January 10 GPU-hours for 20.00 and 1000 requests; February 12 GPU-hours for 30.00 and 1500
    # requests. volume = 500 x 20 / 1000 = 10; price = 12 x (2.50 - 2.00) = 6; mix = 10 - 10 - 6 = -6
    # (0.008 instead of 0.01 GPU-hours a request, at 2.00: 1500 x -0.002 x 2 = -6).
    # __idle__: 4.00 -> 0 in February (it vanished): all of -4 is mix.
    add_cost(con, date(2026, 1, 10), "m", "hardware", "20", subcategory="gpu_compute", quantity="10", unit="GPU-hours")
    add_cost(con, date(2026, 2, 10), "m", "hardware", "30", subcategory="gpu_compute", quantity="12", unit="GPU-hours")
    add_cost(
        con, date(2026, 1, 11), "__idle__", "hardware", "4", subcategory="gpu_compute", quantity="2", unit="GPU-hours"
    )
    add_requests(con, date(2026, 1, 10), "m", 1000)
    add_requests(con, date(2026, 2, 10), "m", 1500)
    assert drivers.refresh(con, ["2026-01", "2026-02"]) == 2  # January has no month before it
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select model_id, previous_cost, cost, change, volume_effect, mix_effect, price_effect, "
            "previous_requests, requests "
            "from marts.price_volume_mix where month = '2026-02'"
        ).fetchall()
    }
    assert rows["m"] == (D(20), D(30), D(10), D(10), D(-6), D(6), 1000, 1500)
    assert rows["__idle__"] == (D(4), D(0), D(-4), D(0), D(-4), D(0), None, None)
    # every row adds up exactly, and the months' costs are the ledger's
    unbalanced = "select count(*) from marts.price_volume_mix where change <> volume_effect + mix_effect + price_effect"
    assert con.execute(unbalanced).fetchone() == (0,)


def test_a_split_that_loses_a_row_stops_the_publish(con) -> None:
    # the refresh reconciles what it wrote: February's split adds up to 30.00 like the ledger;
    # a split row dropped leaves 0 in the mart against 30.00 in the ledger, and the publish
    # (this transaction) must roll back
    from pipeline.errors import ValidationFailed
    from pipeline.marts import reconcile

    add_cost(con, date(2026, 1, 10), "m", "hardware", "20")
    add_cost(con, date(2026, 2, 10), "m", "hardware", "30")
    drivers.refresh(con, ["2026-02"])
    with kept_through(con, ["2026-02"]):  # as publish keeps marts.data_through's rows
        reconcile(con, ["2026-02"], period="2026-02")  # adds up: no error
        con.execute("delete from marts.price_volume_mix")
        con.execute(
            "insert into marts.price_volume_mix values ('2026-02', '2026-01', 'm', 'hardware', 'USD', 20, 0, -20, "
            "0, -20, 0, null, null)"
        )
        with pytest.raises(ValidationFailed, match="price_volume_mix 2026-02 USD: 0 in the mart, 30 in the ledger"):
            reconcile(con, ["2026-02"], period="2026-02")
