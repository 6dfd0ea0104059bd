"""marts.commitments from FOCUS commitment columns: utilisation, coverage, savings and the effective
savings rate, worked by hand on a small FOCUS file loaded through the CLI."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.check_queries import mart_query
from pipeline.cli import app
from pipeline.generators.formats import FOCUS_HEADER

runner = CliRunner()
CONFIG = """reporting_currency = "USD"

[[models]]
id = "m"
name = "M"

[[shared_pools]]
name = "commitments"
service_name = "Savings Plans"
policy = "keep"
"""


def _charge(
    start: str,
    end: str,
    category: str,
    billed: str,
    effective: str,
    service_category: str,
    service: str,
    *,
    list_cost: str | None = None,
    commitment: str = "",
    status: str = "",
    frequency: str = "Usage-Based",
) -> dict:
    listed = billed if list_cost is None else list_cost
    return {
        "BillingAccountId": "111",
        "BillingAccountName": "Prod",
        "SubAccountId": "222",
        "SubAccountName": "ml",
        "BillingPeriodStart": "2026-01-01T00:00:00Z",
        "BillingPeriodEnd": "2026-02-01T00:00:00Z",
        "ChargePeriodStart": start,
        "ChargePeriodEnd": end,
        "ChargeCategory": category,
        "ChargeClass": "",
        "ChargeDescription": service,
        "ChargeFrequency": frequency,
        "BilledCost": billed,
        "EffectiveCost": effective,
        "ListCost": listed,
        "ContractedCost": listed,
        "BillingCurrency": "USD",
        "PricingCurrency": "USD",
        "ConsumedQuantity": "1",
        "ConsumedUnit": "Hours",
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "InvoiceIssuerName": "AWS",
        "InvoiceId": "",
        "RegionId": "us-east-1",
        "ResourceId": f"r-{service}",
        "ResourceName": "",
        "ResourceType": "",
        "ServiceCategory": service_category,
        "ServiceName": service,
        "SkuId": "SKU",
        "SkuPriceId": "SKU-P" if category != "Tax" else "",
        "CommitmentDiscountId": commitment,
        "CommitmentDiscountType": "Savings Plan" if commitment else "",
        "Tags": json.dumps({"model": "m"}) if service != "Savings Plans" else "",
        "CommitmentDiscountStatus": status,
    }


DAY5, DAY6, DAY7 = "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z"
CHARGES = [
    # the plan's January fee: 90.00 billed, its cost reaches usage as amortised (effective) cost
    _charge(
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "Purchase",
        "90.00",
        "0.00",
        "Compute",
        "Savings Plans",
        commitment="sp-A",
        frequency="Recurring",
    ),
    # two days of covered usage: 36.00 amortised each, 50.00 at list prices
    *[
        _charge(
            start, end, "Usage", "0.00", "36.00", "Compute", "EC2", list_cost="50.00", commitment="sp-A", status="Used"
        )
        for start, end in ((DAY5, DAY6), (DAY6, DAY7))
    ],
    # what the plan did not use
    _charge(
        DAY6,
        DAY7,
        "Usage",
        "0.00",
        "18.00",
        "Compute",
        "Savings Plans",
        list_cost="0.00",
        commitment="sp-A",
        status="Unused",
    ),
    # eligible usage it did not cover (on demand), and usage outside its scope (storage)
    _charge(DAY5, DAY6, "Usage", "30.00", "30.00", "Compute", "EC2"),
    _charge(DAY6, DAY7, "Usage", "30.00", "30.00", "Compute", "EC2"),
    _charge(DAY5, DAY6, "Usage", "10.00", "10.00", "Storage", "S3"),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("commitments") / "ws"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    (root / "costledger.toml").write_text(CONFIG)
    with (root / "inbox" / "billing" / "focus-2026-01.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FOCUS_HEADER)
        writer.writeheader()
        writer.writerows(CHARGES)
    mp = pytest.MonkeyPatch()
    mp.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")
    result = runner.invoke(app, ["run", "-w", str(root), "--date", "2026-01-31"])
    mp.undo()
    assert result.exit_code == 0, result.output
    return root


def test_utilisation_coverage_and_savings_by_hand(workspace: Path) -> None:
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute("select * from marts.commitments").fetchall()
        names = [d[0] for d in con.description]
    assert len(row) == 1
    got = dict(zip(names, row[0], strict=True))
    # used 36 + 36 = 72; unused 18; the plan's cost 90 = the fee billed; utilisation 72 / 90 = 0.8
    assert (got["commitment_id"], got["service_category"]) == ("sp-A", "Compute")
    assert (got["used_cost"], got["unused_cost"], got["commitment_cost"], got["purchase_billed"]) == (72, 18, 90, 90)
    assert got["utilisation"] == 0.8
    # covered at list prices 50 + 50 = 100; eligible (Compute usage) 100 + 30 + 30 = 160 (storage is
    # not); coverage 100 / 160 = 0.625
    assert (got["covered_list_cost"], got["eligible_list_cost"], got["coverage"]) == (100, 160, 0.625)
    # saved against list 100 - 90 = 10, a rate of 10 / 100 = 0.1 on what it covered; the ESR of the
    # scope: 1 - (72 + 30 + 30 + 18) / 160 = 1 - 150 / 160 = 0.0625
    rates = (got["savings_vs_list"], got["savings_rate_vs_list"], got["effective_savings_rate_vs_list"])
    assert rates == (10, 0.1, 0.0625)
    assert isinstance(got["savings_vs_list"], Decimal)  # money stays exact


def test_the_unused_commitment_reaches_the_ledger_and_reconciles(workspace: Path) -> None:
    # the Unused row (18.00) is kept in __shared__ by the `commitments` pool; the marts check that
    # the ledger rows traced to the plan's charges (72 + 18 + 0) equal the mart's 90 passed
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        shared = con.execute(
            "select sum(effective_cost) from ledger.cost_ledger where model_id = '__shared__'"
        ).fetchone()[0]
        checks = dict(
            con.execute("select \"column\", success from meta.check_results where suite = 'marts'").fetchall()
        )
    assert shared == Decimal(18)
    assert checks["commitments_unreconciled"] is True and checks["commitment_rates_out_of_range"] is True


@pytest.mark.parametrize("order", ["Other first", "Compute first"])
def test_a_commitment_whose_largest_charges_tie_takes_the_first_category_by_name(order: str) -> None:
    # sp-T covered two usage charges of 0.00 effective cost each (a plan whose amortised cost
    # lands elsewhere), one Compute, one Other: their largest effective costs tie at 0, so the
    # scope is the first category by name, Compute, whatever order the sums come in
    con = duckdb.connect()
    con.execute(
        "create table _mart_commitment_load_totals (billing_period varchar, load_id varchar, provider varchar, "
        "billing_account_id varchar, currency varchar, service_category varchar, commitment_id varchar, "
        "commitment_type varchar, kind varchar, charges bigint, billed decimal(38, 18), effective decimal(38, 18), "
        "largest_effective decimal(38, 18), list_cost decimal(38, 18), contracted_cost decimal(38, 18))"
    )
    categories = ["Other", "Compute"] if order == "Other first" else ["Compute", "Other"]
    for category in categories:
        con.execute(
            "insert into _mart_commitment_load_totals values "
            "('2026-01', 'load-1', 'AWS', '111', 'USD', ?, 'sp-T', 'Savings Plan', 'used', 1, 0, 0, 0, 5, 5)",
            [category],
        )
    query = mart_query("commitments", kept=frozenset({"commitment_load_totals"}))
    assert con.execute(f"select commitment_id, service_category from ({query})").fetchall() == [("sp-T", "Compute")]
