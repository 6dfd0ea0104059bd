"""The rows that do not come from a bill (here vendor invoices, inbox/charges/) are built again at
every build, but a row that comes out exactly as it is stays in the kept candidate with the run_id
of the build that wrote it: a new day's bill or a new invoice file rewrites none of them, a new
version of a file rewrites the rows that trace to it, and the ledger is still the one a build from
nothing gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline import run, warehouse
from pipeline.workspace import Workspace
from tests.ledger.test_billing_parts_kept import _ledger, _usage, _write
from tests.ledger.test_tax_pool import CONFIG_TOML

INVOICES = "invoice_id,vendor,category,subcategory,service_start,service_end,amount,currency,model_id,description\n"
# INV-A: 10.00 over Jan 1-10, 1.00 a day to search; INV-B: 3.00 over Jan 1-2, 1.50 a day to rec
INV_A = "INV-A,Labelers Inc,data,labelling,2026-01-01,2026-01-10,10.00,USD,search,labels\n"
INV_B = "INV-B,Vector Co,software,licence,2026-01-01,2026-01-02,{amount},USD,rec,index\n"


def _invoices(ws: Workspace, amount_b: str) -> None:
    (ws.inbox / "charges" / "invoices.csv").write_text(INVOICES + INV_A + INV_B.format(amount=amount_b), "utf-8")


def _charges(ws: Workspace) -> tuple[str, dict[tuple[str, date], tuple[Decimal, str]]]:
    """The period's build run_id, and its charge rows: (model, day) -> (billed, run_id)."""
    with warehouse.connect(ws.warehouse) as con:
        [(build,)] = con.execute(
            "select run_id from ledger.candidate_builds where billing_period = '2026-01'"
        ).fetchall()
        rows = con.execute(
            "select model_id, charge_date, billed_cost, run_id from ledger.cost_ledger_candidate "
            "where source = 'charges' order by all"
        ).fetchall()
    return build, {(model, day): (billed, run_id) for model, day, billed, run_id in rows}


def test_unchanged_rows_keep_their_run_id_and_a_new_file_version_rewrites_its_own(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    _write(ws, "jan-05.csv", [_usage(5, "search", "30.00")])
    _invoices(ws, "3.00")
    run.run(ws, date=date(2026, 1, 5))
    first, charges = _charges(ws)
    # 10 days of INV-A at 1.00 and 2 days of INV-B at 1.50, all written by the first build
    assert len(charges) == 12
    assert charges[("search", date(2026, 1, 10))] == (Decimal("1.00"), first)
    assert charges[("rec", date(2026, 1, 2))] == (Decimal("1.50"), first)
    assert {run_id for _, run_id in charges.values()} == {first}

    _write(ws, "jan-06.csv", [_usage(6, "rec", "10.00")])  # a new day's bill: no invoice changes
    run.run(ws, date=date(2026, 1, 6))
    second, after_bill = _charges(ws)
    assert second != first
    assert after_bill == charges  # every charge row kept as it was, with the first build's run_id

    # a second invoice file: only its rows are written (INV-C: 3.00 over Jan 3-5, 1.00 a day to rec)
    extra = INVOICES + "INV-C,Vector Co,software,licence,2026-01-03,2026-01-05,3.00,USD,rec,support\n"
    (ws.inbox / "charges" / "extra.csv").write_text(extra, "utf-8")
    run.run(ws, date=date(2026, 1, 7))
    third, after_extra = _charges(ws)
    assert third not in (first, second)
    assert {k: v for k, v in after_extra.items() if k in charges} == charges
    assert {k: v for k, v in after_extra.items() if k not in charges} == {
        ("rec", date(2026, 1, day)): (Decimal("1.00"), third) for day in (3, 4, 5)
    }

    _invoices(ws, "4.00")  # INV-B restated: 2.00 a day. A new file version: its rows trace to it
    run.run(ws, date=date(2026, 1, 8))
    fourth, after_restatement = _charges(ws)
    assert after_restatement[("rec", date(2026, 1, 2))] == (Decimal("2.00"), fourth)
    assert after_restatement[("search", date(2026, 1, 10))] == (Decimal("1.00"), fourth)
    assert after_restatement[("rec", date(2026, 1, 4))] == (Decimal("1.00"), third)  # extra.csv's: kept
    nightly = _ledger(ws)

    with warehouse.connect(ws.warehouse) as con:  # forget everything kept: a build from nothing
        for table in ("cost_ledger_candidate", "candidate_builds", "billing_deferred", "billing_allocated"):
            con.execute(f"delete from ledger.{table}")
    run.run(ws, date=date(2026, 1, 8), month="2026-01")
    assert _ledger(ws) == nightly
