"""Tax spread by a declared policy: a `[[shared_pools]]` entry with `charge_category = "Tax"` and
`policy = "proportional"` gives each model tax in proportion to its direct cost, exactly, the
last quantum going to the largest remainder; worked by hand, on frames and through a workspace."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipeline import run, warehouse
from pipeline.config import Config
from pipeline.ledger.billing_allocation import billing_parts
from pipeline.workspace import Workspace
from tests.factories import billing_rows

CONFIG = Config.model_validate(
    {
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        "shared_pools": [{"name": "tax", "charge_category": "Tax", "policy": "proportional"}],
    }
)
DAY = datetime(2026, 1, 1)


def _billing(rows: list[dict]) -> pl.DataFrame:
    return billing_rows(rows, ChargePeriodStart=DAY, ChargePeriodEnd=DAY + timedelta(days=1))


def test_tax_proportional_to_direct_cost_to_the_last_quantum() -> None:
    # direct: search 20.00, rec 10.00 -> weights 2000 : 1000 cents.
    # tax 1.00 = 10^18 quanta: search 2/3 -> floor 666666666666666666 (remainder .67),
    # rec 1/3 -> floor 333333333333333333 (remainder .33); 1 quantum left goes to the larger
    # remainder, search: 0.666666666666666667 + 0.333333333333333333 = 1.00 exactly.
    rows = _billing(
        [
            {"BilledCost": "20.00", "EffectiveCost": "20.00", "Tags": '{"model": "search"}'},
            {"BilledCost": "10.00", "EffectiveCost": "10.00", "Tags": '{"model": "rec"}'},
            {
                "BilledCost": "1.00",
                "EffectiveCost": "1.00",
                "ChargeCategory": "Tax",
                "ServiceName": "Tax",
                "ServiceCategory": None,
            },
        ]
    )
    parts = billing_parts(
        rows, pl.DataFrame(), CONFIG, ({"charge_category": "Tax", "category": "operational", "subcategory": "tax"},)
    )
    tax = parts.filter(pl.col("allocation_method") == "shared_pool").sort("model_id")
    assert tax.select("model_id", "source_amount", "source_effective_amount").rows() == [
        ("rec", Decimal("0.333333333333333333"), Decimal("0.333333333333333333")),
        ("search", Decimal("0.666666666666666667"), Decimal("0.666666666666666667")),
    ]
    assert tax["source_amount"].sum() == Decimal("1.00")
    # the share is the weight fraction (2000/3000, 1000/3000) truncated to 18 decimals; the amounts carry the remainder
    assert set(tax["allocation_share"].cast(pl.String)) == {"0.666666666666666666", "0.333333333333333333"}
    assert parts["source_amount"].sum() == Decimal("31.00")  # 20.00 + 10.00 + 1.00: nothing lost


CONFIG_TOML = """
reporting_currency = "USD"
[[models]]
id = "search"
name = "Search"
[[models]]
id = "rec"
name = "Rec"
[attribution]
tag_keys = ["model"]
[[shared_pools]]
name = "tax"
charge_category = "Tax"
policy = "proportional"
"""
HEADER = (
    "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,"
    "BillingCurrency,ProviderName,ServiceName,Tags"
)


def test_tax_pool_from_the_config_file(tmp_path: Path) -> None:
    # search 30.00 and rec 10.00 on Jan 5 (weights 3000 : 1000); tax 2.00 for the month, spread
    # over its 31 days by seconds: 2 x 10^18 quanta / 31 = 64516129032258064 a day, 16 quanta
    # left, one each to the first 16 days (equal remainders: the earliest days), so Jan 5 has
    # 64516129032258065. Jan 5 by 3 : 1: search floor(x 3/4) = 48387096774193548 (remainder .75),
    # rec 16129032258064516 (.25), the quantum left to search: 48387096774193549. The other 30
    # days have no direct cost: __shared__ 2.00 - 0.064516129032258065 = 1.935483870967741935.
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    period = "2026-01-01,2026-02-01"
    lines = [
        HEADER,
        f'{period},2026-01-05,2026-01-06,Usage,30.00,30.00,USD,AWS,EC2,"{{""model"": ""search""}}"',
        f'{period},2026-01-05,2026-01-06,Usage,10.00,10.00,USD,AWS,EC2,"{{""model"": ""rec""}}"',
        f"{period},2026-01-01,2026-02-01,Tax,2.00,2.00,USD,AWS,Tax,",
    ]
    (ws.inbox / "billing" / "jan.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run.run(ws, date=date(2026, 1, 31))
    query = (
        "select model_id, category, subcategory, sum(billed_cost), count(distinct charge_date) from ledger.cost_ledger "
        "where allocation_method = 'shared_pool' group by all order by model_id"
    )
    with warehouse.connect(ws.warehouse) as con:
        got = con.execute(query).fetchall()
    assert got == [
        ("__shared__", "operational", "tax", Decimal("1.935483870967741935"), 30),
        ("rec", "operational", "tax", Decimal("0.016129032258064516"), 1),
        ("search", "operational", "tax", Decimal("0.048387096774193549"), 1),
    ]

    # window = "month": the row split by the month's 3 : 1 first, search 1.50 and rec 0.50, each
    # then spread over the 31 days.
    (ws.root / "costledger.toml").write_text(CONFIG_TOML + 'window = "month"\n', encoding="utf-8")
    run.run(Workspace.open(ws.root), date=date(2026, 1, 31), month="2026-01")
    with warehouse.connect(ws.warehouse) as con:
        got = con.execute(query).fetchall()
    assert got == [
        ("rec", "operational", "tax", Decimal("0.50"), 31),
        ("search", "operational", "tax", Decimal("1.50"), 31),
    ]


def test_shared_rows_split_together_or_one_at_a_time_give_the_same_parts() -> None:
    # three tax rows (1.00, 2.00, 0.01) over direct 20.00 : 10.00; split in one build, then each
    # tax row in a build of its own beside the same direct rows: a row's parts depend on the row
    # and the weights only
    direct = [
        {"BilledCost": "20.00", "EffectiveCost": "20.00", "Tags": '{"model": "search"}'},
        {"BilledCost": "10.00", "EffectiveCost": "10.00", "Tags": '{"model": "rec"}'},
    ]
    taxes = [
        {"BilledCost": c, "EffectiveCost": c, "ChargeCategory": "Tax", "ServiceName": "Tax", "ServiceCategory": None}
        for c in ("1.00", "2.00", "0.01")
    ]
    rules = ({"charge_category": "Tax", "category": "operational", "subcategory": "tax"},)
    together = billing_parts(_billing([*direct, *taxes]), pl.DataFrame(), CONFIG, rules)
    alone = pl.concat(
        [
            billing_parts(_billing([*direct, tax]), pl.DataFrame(), CONFIG, rules).filter(
                pl.col("allocation_method") == "shared_pool"
            )
            for tax in taxes
        ]
    )
    columns = ["model_id", "source_amount", "source_effective_amount", "allocation_share"]
    tax_parts = together.filter(pl.col("allocation_method") == "shared_pool")
    assert sorted(tax_parts.select(columns).rows()) == sorted(alone.select(columns).rows())
    # 6 tax parts (3 rows x 2 models) + 2 direct; 0.01 by 2 : 1 -> search 0.006666666666666667, rec 0.003333333333333333
    assert together.height == 8 and together["source_amount"].sum() == Decimal("33.01")
    assert sorted(
        tax_parts.filter(pl.col("source_amount") < Decimal("0.01")).select("model_id", "source_amount").rows()
    ) == [
        ("rec", Decimal("0.003333333333333333")),
        ("search", Decimal("0.006666666666666667")),
    ]
