"""A later export of the same (provider, billing account, billing period) replaces the earlier
one, never adds to it; the earlier rows stay in raw; meta.restatements shows old, new and the
change. Files in one folder are parts of one delivery and do not supersede each other."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline import run, warehouse
from pipeline.workspace import Workspace

HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
    "EffectiveCost,BillingCurrency,ProviderName,ServiceName"
)


def _file(ws: Workspace, relative: str, *amounts: str, month: str = "2026-01") -> None:
    path = ws.inbox / "billing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        f"111,{month}-01,{month}-28,{month}-0{i + 1}T00:00:00Z,{month}-0{i + 2}T00:00:00Z,Usage,{a},{a},USD,AWS,Amazon "
        "Elastic Compute Cloud"
        for i, a in enumerate(amounts)
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")


def _ledger_total(ws: Workspace, period: str) -> Decimal:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute(
            "select sum(billed_cost) from ledger.cost_ledger where source = 'billing' and billing_period = ?", [period]
        ).fetchone()[0]


def test_a_restated_month_replaces_never_adds(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _file(ws, "cur/20260201-v1/export.csv", "10.00", "5.00")
    run.run(ws, date=date(2026, 2, 1))
    assert _ledger_total(ws, "2026-01") == Decimal("15.00")  # 10.00 + 5.00
    _file(ws, "cur/20260203-v2/export.csv", "10.00", "7.50")  # AWS rewrote the month
    run.run(ws, date=date(2026, 2, 3))
    assert _ledger_total(ws, "2026-01") == Decimal("17.50")  # 10.00 + 7.50, not 32.50
    with warehouse.connect(ws.warehouse) as con:
        statuses = dict(con.execute("select path, status from meta.loads").fetchall())
        restated = con.execute(
            "select provider, billing_account_id, billing_period, currency, old_rows, new_rows, old_billed, "
            "new_billed, billed_change, effective_change "
            "from meta.restatements"
        ).fetchall()
        old_raw = con.execute(
            "select count(*) from raw.source_rows r join meta.loads l using (load_id) where l.path = "
            "'billing/cur/20260201-v1/export.csv'"
        ).fetchone()[0]
    assert statuses == {
        "billing/cur/20260201-v1/export.csv": "superseded",
        "billing/cur/20260203-v2/export.csv": "loaded",
    }
    # old 15.00, new 17.50: +2.50 billed and effective
    assert restated == [
        ("AWS", "111", "2026-01", "USD", 2, 2, Decimal("15.00"), Decimal("17.50"), Decimal("2.50"), Decimal("2.50"))
    ]
    assert old_raw == 2  # the superseded version stays queryable


def test_parts_in_one_folder_add_up(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _file(ws, "cur/20260201/part-1.csv", "10.00")
    _file(ws, "cur/20260201/part-2.csv", "4.00", "1.00")
    run.run(ws, date=date(2026, 2, 1))
    assert _ledger_total(ws, "2026-01") == Decimal("15.00")  # 10.00 + 4.00 + 1.00: parts, not versions
    with warehouse.connect(ws.warehouse) as con:
        assert con.execute("select count(*) from meta.restatements").fetchone()[0] == 0


def test_a_different_account_or_period_is_not_a_restatement(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _file(ws, "jan/export.csv", "10.00")
    _file(ws, "feb/export.csv", "3.00", month="2026-02")
    run.run(ws, date=date(2026, 2, 20))
    assert _ledger_total(ws, "2026-01") == Decimal("10.00")
    assert _ledger_total(ws, "2026-02") == Decimal("3.00")
