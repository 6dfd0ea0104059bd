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
) -> None:
    """One published ledger row of `cost` (billed = effective, USD)."""
    amount = Decimal(cost)
    lineage = f"row-{next(_lineage)}"
    con.execute(
        "insert into ledger.cost_ledger (charge_date, billing_period, model_id, category, subcategory, billed_cost, "
        "effective_cost, currency, source_amount, source_effective_amount, source_currency, fx_rate, quantity, "
        "quantity_unit, source, provider, allocation_method, allocation_share, lineage_id, source_ref, run_id) "
        "values (?, ?, ?, ?, ?, ?, ?, 'USD', ?, ?, 'USD', 1, ?, ?, ?, 'vendor', 'direct', 1, ?, ?, 'run')",
        [day, day.strftime("%Y-%m"), model, category, subcategory, amount, amount, amount, amount,
         None if quantity is None else Decimal(quantity), unit, source, lineage, source_ref or lineage],
    )


def add_requests(con: duckdb.DuckDBPyConnection, day: date, model: str, requests: int) -> None:
    con.execute("insert into staging.usage values ('usage', 1, ?, ?, ?, null, null)", [day, model, requests])
