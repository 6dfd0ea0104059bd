"""Hand-made warehouses for the decision marts: a fresh DuckDB file and ledger rows by the day."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline import warehouse

_lineage = itertools.count(1)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def add_cost(
    con: duckdb.DuckDBPyConnection,
    day: date,
    model: str,
    category: str,
    cost: str | Decimal,
    *,
    subcategory: str = "compute",
    quantity: str | None = None,
    unit: str | None = None,
    source: str = "charges",
    source_ref: str | None = None,
    phase: str = "inference",
) -> None:
    """One published ledger row of `cost` (billed = effective = economic, USD, cash); a row of
    source "milestones" is opportunity cost (billed and effective 0, economic `cost`), as the build
    writes it."""
    amount = Decimal(cost)
    lineage = f"row-{next(_lineage)}"
    basis = "opportunity" if source == "milestones" else "cash"
    cash = Decimal(0) if basis == "opportunity" else amount
    con.execute(
        "insert into ledger.cost_ledger (charge_date, billing_period, model_id, category, subcategory, billed_cost, "
        "effective_cost, currency, source_amount, source_effective_amount, source_currency, fx_rate, quantity, "
        "quantity_unit, source, provider, allocation_method, allocation_share, lineage_id, source_ref, run_id, "
        "cost_basis, phase, economic_cost) "
        "values (?, ?, ?, ?, ?, ?, ?, 'USD', ?, ?, 'USD', 1, ?, ?, ?, 'vendor', 'direct', 1, ?, ?, 'run', ?, ?, ?)",
        [
            day,
            day.strftime("%Y-%m"),
            model,
            category,
            subcategory,
            cash,
            cash,
            cash,
            amount,
            None if quantity is None else Decimal(quantity),
            unit,
            source,
            lineage,
            source_ref or lineage,
            basis,
            phase,
            amount,
        ],
    )


def add_requests(con: duckdb.DuckDBPyConnection, day: date, model: str, requests: int) -> None:
    con.execute("insert into staging.usage values ('usage', 1, ?, ?, ?, null, null)", [day, model, requests])
