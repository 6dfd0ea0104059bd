"""Reconciliation per invoice: per billing period, provider, billing account, invoice (null = the
bill is not final) and currency, the ledger against the bill and against an optional invoices
file (inbox/charges/, detected by its header). Any difference fails validation: nothing of the
period is published."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline import run, warehouse
from pipeline.errors import ValidationFailed
from pipeline.workspace import Workspace

HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
    "EffectiveCost,BillingCurrency,ProviderName,ServiceName,InvoiceId"
)
PERIOD = "2026-01-01,2026-02-01"
BILL = [
    f"111,{PERIOD},2026-01-05T00:00:00Z,2026-01-06T00:00:00Z,Usage,10.25,10.25,USD,AWS,EC2,INV-1",
    f"111,{PERIOD},2026-01-06T00:00:00Z,2026-01-07T00:00:00Z,Usage,4.75,4.75,USD,AWS,EC2,INV-1",
    f"111,{PERIOD},2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,Tax,1.50,1.50,USD,AWS,Tax,INV-1",
    f"222,{PERIOD},2026-01-05T00:00:00Z,2026-01-06T00:00:00Z,Usage,3.00,3.00,USD,AWS,EC2,INV-2",
    f"333,{PERIOD},2026-01-30T00:00:00Z,2026-01-31T00:00:00Z,Usage,2.00,2.00,USD,AWS,EC2,",  # not invoiced yet
]
INVOICES = "invoice_id,billing_account_id,billing_period,currency,total\n"


def _workspace(tmp_path: Path, invoices: str | None) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    (ws.inbox / "billing" / "jan.csv").write_text("\n".join([HEADER, *BILL]) + "\n", encoding="utf-8")
    if invoices is not None:
        (ws.inbox / "charges" / "invoices.csv").write_text(invoices, encoding="utf-8")
    return ws


def _mart(ws: Workspace) -> dict[tuple, tuple]:
    with warehouse.connect(ws.warehouse) as con:
        rows = con.execute(
            "select billing_account_id, invoice_id, invoice_final, source_rows, source_billed, ledger_billed, "
            "billed_difference, "
            "effective_difference, invoice_total, invoice_difference from marts.invoice_reconciliation where "
            "billing_period = '2026-01'"
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_matching_invoices_reconcile_to_zero(tmp_path: Path) -> None:
    # INV-1 = 10.25 + 4.75 + 1.50 = 16.50; INV-2 = 3.00; account 333's 2.00 has no invoice yet
    ws = _workspace(tmp_path, INVOICES + "INV-1,111,2026-01,USD,16.50\nINV-2,222,2026-01,USD,3.00\n")
    assert run.run(ws, date=date(2026, 1, 31)) == ["2026-01"]
    zero = Decimal(0)
    assert _mart(ws) == {
        ("111", "INV-1"): (True, 3, Decimal("16.50"), Decimal("16.50"), zero, zero, Decimal("16.50"), zero),
        ("222", "INV-2"): (True, 1, Decimal("3.00"), Decimal("3.00"), zero, zero, Decimal("3.00"), zero),
        ("333", None): (False, 1, Decimal("2.00"), Decimal("2.00"), zero, zero, None, None),
    }
    with warehouse.connect(ws.warehouse) as con:
        fmt = con.execute("select detected_format from meta.loads where path = 'charges/invoices.csv'").fetchone()[0]
        checks = con.execute(
            "select count(*), bool_and(success) from meta.check_results where suite = 'invoice_reconciliation'"
        ).fetchone()
    assert fmt == "invoice-totals-csv"
    assert checks == (3, True)


def test_an_invoice_total_a_cent_off_fails_and_publishes_nothing(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, INVOICES + "INV-1,111,2026-01,USD,16.51\n")
    with pytest.raises(ValidationFailed) as failed:
        run.run(ws, date=date(2026, 1, 31))
    # 16.50 billed - 16.51 invoiced = -0.01
    assert "invoice_reconciliation: expect_column_values_to_be_in_set on column 'invoice_exact'" in str(failed.value)
    assert "invoice_id=INV-1" in str(failed.value) and "invoice_difference=-0.01" in str(failed.value)
    with warehouse.connect(ws.warehouse) as con:
        assert con.execute("select count(*) from ledger.cost_ledger").fetchone()[0] == 0


def test_an_invoice_missing_from_the_bill_fails(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, INVOICES + "INV-9,111,2026-01,USD,5.00\n")
    with pytest.raises(ValidationFailed) as failed:
        run.run(ws, date=date(2026, 1, 31))
    assert "invoice_id=INV-9" in str(failed.value) and "source_billed=missing" in str(failed.value)


def test_the_mart_shows_a_ledger_row_that_lost_its_charge(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, None)
    run.run(ws, date=date(2026, 1, 31))
    assert all(v[4] == 0 and v[5] == 0 for v in _mart(ws).values())
    with warehouse.connect(ws.warehouse) as con:  # a ledger row whose charge was deleted behind the pipeline's back
        con.execute(
            "update ledger.cost_ledger set source_ref = 'gone:1' where source = 'billing' and source_amount = 3.00"
        )
    mart = _mart(ws)
    assert mart[("222", "INV-2")][3:5] == (Decimal("0"), Decimal("-3.00"))  # billed 3.00, ledger 0
    assert mart[(None, None)][2:5] == (Decimal("0"), Decimal("3.00"), Decimal("3.00"))  # ledger 3.00 under no invoice
