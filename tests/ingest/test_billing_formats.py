"""The same generated charges, written as FOCUS, AWS CUR 2.0, AWS legacy CUR, Azure and GCP
exports, give identical ledgers.

Compared per billing period, model, category, subcategory, unallocated reason and currency
(billed and effective cost, exact), and also per day for every format but Azure: Azure cost
details carry only a charge day, so a monthly charge (support, licence, tax) lands on its first
day there instead of being spread over the month; its month totals are still identical."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline import run, warehouse
from pipeline.generators.demo import generate_estate
from pipeline.generators.formats import FORMATS

# one month (March: its FX change, spike and commitments included) keeps five full pipeline runs short
MONTHS = ("2026-03",)
KEY = "billing_period, model_id, category, subcategory, coalesce(unallocated_reason, '') as reason, currency"


def _ledger(root: Path, *, daily: bool) -> dict[tuple, tuple[Decimal, Decimal]]:
    keys = ("charge_date, " if daily else "") + KEY
    with warehouse.connect(root / "warehouse.duckdb") as con:
        rows = con.execute(
            f"select {keys}, sum(billed_cost), sum(effective_cost) from ledger.cost_ledger where source = 'billing' "
            "group by all"
        ).fetchall()
    return {tuple(r[:-2]): (r[-2], r[-1]) for r in rows}


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    roots = {}
    mp = pytest.MonkeyPatch()
    mp.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")
    for fmt in FORMATS:
        estate = generate_estate(tmp_path_factory.mktemp(fmt) / "ws", months=MONTHS, billing_format=fmt)
        run.run(estate.root, date=date(2026, 3, 28))
        roots[fmt] = estate.root
    yield roots
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "focus"])
def test_format_gives_the_focus_ledger(ledgers: dict[str, Path], fmt: str) -> None:
    expected = _ledger(ledgers["focus"], daily=False)
    assert expected  # the FOCUS estate has billing in the ledger
    assert _ledger(ledgers[fmt], daily=False) == expected
    if fmt != "azure":
        assert _ledger(ledgers[fmt], daily=True) == _ledger(ledgers["focus"], daily=True)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_format_is_detected_from_content(ledgers: dict[str, Path], fmt: str) -> None:
    expected = {
        "focus": {"focus-1.2"},
        "cur2": {"aws-cur2"},
        "cur-legacy": {"aws-cur-legacy"},
        "azure": {"azure-ea-mixed", "azure-ea-unknown"},
        "gcp": {"gcp-billing-export"},
    }[fmt]
    with warehouse.connect(ledgers[fmt] / "warehouse.duckdb") as con:
        found = {
            r[0]
            for r in con.execute(
                "select detected_format from meta.loads where source = 'billing' and status = 'loaded'"
            ).fetchall()
        }
        rejected = con.execute("select count(*) from meta.quarantine").fetchone()[0]
    assert found <= expected and found
    assert rejected == 0
