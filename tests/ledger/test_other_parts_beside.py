"""The parts that do not come from a bill (here a vendor invoice, inbox/charges/) are made in a
thread while the bill is routed: their FX rates are checked when they come, before the build
commits, and a missing rate fails the build with nothing written, as it did when they were made
first. A missing rate in the bill itself waits for them, so the error counts their days too."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline import run
from pipeline.errors import CostLedgerError
from pipeline.workspace import Workspace
from tests.ledger.test_billing_parts_kept import _usage, _write
from tests.ledger.test_other_parts_kept import INVOICES
from tests.ledger.test_tax_pool import CONFIG_TOML

# INV-E: 2.00 EUR over Jan 1-2 (1.00 a day) to search; no EUR rate in inbox/fx/
INV_EUR = "INV-E,Labelers Inc,data,labelling,2026-01-01,2026-01-02,2.00,EUR,search,labels\n"


def _workspace(tmp_path: Path, bill: list[str]) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)  # reporting_currency = "USD"
    _write(ws, "jan-05.csv", bill)
    (ws.inbox / "charges" / "invoices.csv").write_text(INVOICES + INV_EUR, "utf-8")
    run.ingest(ws)
    return ws


def _written(ws: Workspace) -> tuple[int, int]:
    """The period's candidate rows and routed billing file versions."""
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        [(rows,)] = con.execute("select count(*) from ledger.cost_ledger_candidate").fetchall()
        [(routed,)] = con.execute("select count(*) from ledger.billing_allocated").fetchall()
    return rows, routed


def test_an_invoice_without_a_rate_fails_the_build_after_the_bill_was_routed_beside_it(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, [_usage(5, "search", "30.00")])  # the bill in USD: no rate needed

    with pytest.raises(CostLedgerError) as raised:
        run.build(ws, "2026-01", as_of=date(2026, 1, 5))

    # the invoice's first day, Jan 1, named; Jan 1 and 2 missing
    assert str(raised.value).startswith(
        "no FX rate from EUR to USD on 2026-01-01 (first needed by inbox/charges/invoices.csv, row 1; "
        "2 currency-days missing)"
    )
    assert _written(ws) == (0, 0)  # the bill's rows were routed in the build's transaction: rolled back


def test_a_bill_without_a_rate_is_named_first_and_counted_with_the_invoice(tmp_path: Path) -> None:
    bill = [_usage(5, "search", "30.00").replace(",USD,", ",EUR,")]  # 30.00 EUR on Jan 5
    ws = _workspace(tmp_path, bill)

    with pytest.raises(CostLedgerError) as raised:
        run.build(ws, "2026-01", as_of=date(2026, 1, 5))

    # the bill's row first; its day (Jan 5) and the invoice's two (Jan 1, 2): 3 currency-days
    assert str(raised.value).startswith(
        "no FX rate from EUR to USD on 2026-01-05 (first needed by inbox/billing/jan-05.csv, row 1; "
        "3 currency-days missing)"
    )
    assert _written(ws) == (0, 0)
