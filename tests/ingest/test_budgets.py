"""Budgets (inbox/budgets/) through the CLI: detected from the header, bad lines quarantined with
their reason, and marts.forecast_vs_budget against the cost to date and the month-end forecast."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.generators.formats import FOCUS_HEADER

runner = CliRunner()
CONFIG = """reporting_currency = "USD"

[[models]]
id = "m"
name = "M"
business_line = "search"
team = "t"
"""
BUDGETS = [
    ["period", "model_id", "team", "business_line", "owner", "category", "amount", "currency"],
    ["2026-01", "m", "", "", "", "", "3000.00", "USD"],  # row 1: forecast over
    ["2026-01", "", "t", "", "", "hardware", "5000.00", "USD"],  # row 2: on track
    ["2026-01", "", "", "", "", "", "1000.00", "USD"],  # row 3: the whole estate, over already
    ["2026-01", "", "", "search", "", "", "2000.00", "EUR"],  # row 4: 2000 EUR x 1.10 = 2200 USD
    ["2026-02", "m", "", "", "", "", "500.00", "USD"],  # row 5: no cost published for February
    ["2026-01", "m", "t", "", "", "", "10.00", "USD"],  # row 6: two scopes
    ["2026-01", "m", "", "", "", "gpu", "10.00", "USD"],  # row 7: not a category
    ["2026-01", "m", "", "", "", "", "3500.00", "USD"],  # row 8: repeats row 1's line
    ["2026-13", "m", "", "", "", "", "10.00", "USD"],  # row 9: not a month
]


def _charge(day: int) -> dict:
    start = f"2026-01-{day:02d}T00:00:00Z"
    end = f"2026-01-{day + 1:02d}T00:00:00Z"
    values = dict.fromkeys(FOCUS_HEADER, "")
    values |= {
        "BillingAccountId": "111",
        "BillingPeriodStart": "2026-01-01T00:00:00Z",
        "BillingPeriodEnd": "2026-02-01T00:00:00Z",
        "ChargePeriodStart": start,
        "ChargePeriodEnd": end,
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "BilledCost": "100.00",
        "EffectiveCost": "100.00",
        "BillingCurrency": "USD",
        "ProviderName": "AWS",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "SkuPriceId": "P",
        "Tags": json.dumps({"model": "m"}),
    }
    return values


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("budgets") / "ws"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    (root / "costledger.toml").write_text(CONFIG)
    with (root / "inbox" / "billing" / "jan.csv").open("w", newline="") as handle:  # 100.00 a day, 1-14 January
        writer = csv.DictWriter(handle, fieldnames=FOCUS_HEADER)
        writer.writeheader()
        writer.writerows(_charge(day) for day in range(1, 15))
    (root / "inbox" / "fx" / "rates.csv").write_text("rate_date,currency,rate\n2025-12-31,EUR,1.10\n")
    with (root / "inbox" / "budgets" / "plan.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(BUDGETS)
    mp = pytest.MonkeyPatch()
    mp.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")
    result = runner.invoke(app, ["run", "-w", str(root), "--date", "2026-01-14"])
    mp.undo()
    assert result.exit_code == 0, result.output
    return root


def test_budget_lines_load_and_bad_ones_are_quarantined_with_the_reason(workspace: Path) -> None:
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        load = con.execute(
            "select detected_format, rows_in, rows_loaded, rows_quarantined from meta.loads where source = 'budgets'"
        ).fetchall()
        bad = con.execute('select row_number, "column", reason from meta.quarantine order by row_number').fetchall()
        staged = con.execute("select count(*) from staging.budgets").fetchone()[0]
    assert load == [("budgets-csv", 9, 5, 4)] and staged == 5
    assert [(r, c) for r, c, _ in bad] == [(6, "model_id"), (7, "category"), (8, "period"), (9, "period")]
    assert "at most one of ['model_id', 'team', 'business_line', 'owner']" in bad[0][2]
    assert "repeats an earlier line" in bad[2][2] and "a month like 2026-01" in bad[3][2]


def test_budget_against_cost_to_date_and_forecast(workspace: Path) -> None:
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select row_number, scope_kind, scope, category, budget, actual_to_date, forecast, forecast_low, "
            "forecast_high, status "
            "from marts.forecast_vs_budget order by row_number"
        ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    # Data through 14 January (the billing's last day): 14 x 100 = 1400 to date; the 17 days left
    # at the weekday run rate (every day 100) -> 1400 + 1700 = 3100, every draw alike.
    d = Decimal
    assert got[1] == ("model", "m", "all", d(3000), d(1400), d(3100), 3100.0, 3100.0, "forecast_over")
    assert got[2] == ("team", "t", "hardware", d(5000), d(1400), d(3100), 3100.0, 3100.0, "on_track")
    assert got[3] == ("total", "*", "all", d(1000), d(1400), d(3100), 3100.0, 3100.0, "over")
    assert got[4][:4] == ("business_line", "search", "all", d("2200"))  # 2000 EUR at 1.10
    assert got[4][-1] == "forecast_over"
    assert got[5][-1] == "no_data"
