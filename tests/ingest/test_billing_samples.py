"""Every real billing sample under ../shared/samples/billing/ loads, and its billed and effective
totals per billing period and currency, in staging and in the ledger, equal the file's exactly.

The expected totals are computed here, independently of the adapters: the csv module and
Decimal over the file's own text, with each format's rule written out beside it."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from pipeline import run, warehouse
from pipeline.workspace import Workspace
from tests.conftest import samples_or_skip

Totals = dict[tuple[str, str], tuple[Decimal, Decimal]]
Q18 = Decimal(1).scaleb(-18)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _add(totals: dict, key: tuple[str, str], billed: Decimal, effective: Decimal) -> None:
    b, e = totals.get(key, (Decimal(0), Decimal(0)))
    totals[key] = (b + billed, e + effective)


def focus_totals(path: Path) -> Totals:
    # FOCUS: BilledCost and EffectiveCost as delivered, period = month of BillingPeriodStart
    totals: Totals = {}
    for row in _rows(path):
        _add(
            totals,
            (row["BillingPeriodStart"][:7], row["BillingCurrency"]),
            Decimal(row["BilledCost"]),
            Decimal(row["EffectiveCost"]),
        )
    return totals


def cur_legacy_totals(path: Path) -> Totals:
    # legacy CUR, Usage and Tax rows only in this file: billed = effective = lineItem/UnblendedCost
    totals: Totals = {}
    for row in _rows(path):
        assert row["lineItem/LineItemType"] in ("Usage", "Tax")
        cost = Decimal(row["lineItem/UnblendedCost"])
        _add(totals, (row["bill/BillingPeriodStartDate"][:7], row["lineItem/CurrencyCode"]), cost, cost)
    return totals


def azure_totals(path: Path) -> Totals:
    # Azure, per row: a reservation/savings-plan purchase is billed, effective 0; usage covered by
    # one is billed 0, effective = Cost; anything else billed = effective = Cost. Costs with more
    # than 18 decimals are rounded half to even first (the load message names the residual).
    totals: Totals = {}
    for row in _rows(path):
        month, _, year = row["BillingPeriodStartDate"].partition("/")[0], None, row["BillingPeriodStartDate"][-4:]
        cost = Decimal(row["Cost"]).quantize(Q18, rounding=ROUND_HALF_EVEN)
        committed = row["PricingModel"] in ("Reservation", "SavingsPlan")
        if row["ChargeType"] == "Purchase" and committed:
            billed, effective = cost, Decimal(0)
        elif committed:
            billed, effective = Decimal(0), cost
        else:
            billed, effective = cost, cost
        _add(totals, (f"{year}-{int(month):02d}", row["BillingCurrency"]), billed, effective)
    return totals


def gcp_totals(path: Path) -> Totals:
    # GCP flattened CSV: billed = effective = cost + credits; every credits list in this file is empty
    totals: Totals = {}
    for row in _rows(path):
        assert row["credits"] == "[]"
        month = row["invoice.month"]
        _add(totals, (f"{month[:4]}-{month[4:]}", row["currency"]), Decimal(row["cost"]), Decimal(row["cost"]))
    return totals


CASES = [
    ("focus-1.0/focus_sample.csv", "focus-1.0", focus_totals, 1000),
    ("aws-cur-legacy/sample-anonymous-aws-export-dataset.csv", "aws-cur-legacy", cur_legacy_totals, 1281),
    ("azure-ea/EA_ActualCost_Small.csv", "azure-ea-actual", azure_totals, 11),
    ("azure-ea/EA_AmortizedCost_Small.csv", "azure-ea-amortized", azure_totals, 28),
    ("azure-ea/EA_NoRows.csv", "azure-ea-unknown", azure_totals, 0),
    ("gcp/2022-08-01_5.csv", "gcp-billing-export", gcp_totals, 9),
]


@pytest.mark.parametrize(("name", "fmt", "expected_totals", "rows"), CASES, ids=[c[0] for c in CASES])
def test_sample_loads_and_reconciles_exactly(tmp_path: Path, name: str, fmt: str, expected_totals, rows: int) -> None:
    sample = samples_or_skip("billing", name)
    ws = Workspace.init(tmp_path / "ws")
    target = ws.inbox / "billing" / "sample" / "export.dat"  # the name says nothing: content decides
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample, target)
    periods = run.run(ws, date=date(2026, 1, 15))
    expected = expected_totals(sample)
    with warehouse.connect(ws.warehouse) as con:
        load = con.execute(
            "select detected_format, rows_in, rows_loaded, rows_quarantined, status from meta.loads where source = "
            "'billing'"
        ).fetchone()
        assert load == (fmt, rows, rows, 0, "loaded")
        staged = {
            (p, c): (b, e)
            for p, c, b, e in con.execute(
                "select x_BillingPeriod, BillingCurrency, sum(BilledCost), sum(EffectiveCost) from staging.billing "
                "group by all"
            ).fetchall()
        }
        ledger = {
            (p, c): (b, e)
            for p, c, b, e in con.execute(
                "select billing_period, source_currency, sum(source_amount), sum(source_effective_amount) "
                "from ledger.cost_ledger where source = 'billing' group by all"
            ).fetchall()
        }
    assert staged == expected
    assert ledger == expected
    assert {p for p, _ in expected} <= set(periods)


def test_azure_amortized_rounding_is_reported(tmp_path: Path) -> None:
    # three costs carry 22 significant decimals; rounded half to even to 18, the residual is
    # 0.0001188669167459011366 - 0.000118866916745901 = 0.0000000000000000001366
    # + 0.0000000072922557592391990000 - 0.000000007292255759 = 0.000000000000000000239199
    # + 0.0000000191107392311096200000 - 0.000000019110739231 = 0.00000000000000000010962
    # total 0.000000000000000000485419 (to the 28 decimals delivered: ...4854190000)
    sample = samples_or_skip("billing", "azure-ea", "EA_AmortizedCost_Small.csv")
    ws = Workspace.init(tmp_path / "ws")
    (ws.inbox / "billing").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample, ws.inbox / "billing" / "a.csv")
    run.ingest(ws)
    with warehouse.connect(ws.warehouse) as con:
        message = con.execute("select message from meta.loads").fetchone()[0]
    assert "3 cost value(s) had more than 18 decimals" in message
    assert "exact total residual 0.0000000000000000004854190000" in message


def test_focus_spec_scenarios_are_rejected_naming_the_missing_columns(tmp_path: Path) -> None:
    # the spec's commitment scenarios are excerpts: no BillingCurrency, no ProviderName (both
    # mandatory), so loading them would mean guessing a currency; they are refused, exit 2
    folder = samples_or_skip("billing", "focus-spec", "commitment_discount_scenarios")
    from pipeline.errors import InputError
    from pipeline.ingest import billing
    from pipeline.ingest.parse import read_bytes

    for path in sorted(folder.glob("*.csv")):
        with pytest.raises(InputError, match=r"closest is FOCUS .*missing \['BillingCurrency', 'ProviderName'\]"):
            billing.read(path, read_bytes(path))
