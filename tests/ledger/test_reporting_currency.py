"""A workspace billed in one currency that is not its reporting currency, without FX rates: the
error offers both ways out, through `costledger run`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import without_progress

runner = CliRunner()
HEADER = (
    "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,ProviderName,ServiceName"
)


def _workspace(tmp_path: Path, *rows: tuple[str, str]) -> Path:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0  # reporting_currency = "USD"
    lines = [
        f"{cost},{cost},{currency},2026-02-01,2026-03-01,2026-02-03,2026-02-04,Usage,Azure,Virtual Machines"
        for cost, currency in rows
    ]
    (ws / "inbox" / "billing" / "bill.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    return ws


def test_billing_all_in_another_currency_offers_fx_rates_or_that_reporting_currency(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, ("12.50", "EUR"), ("7.25", "EUR"))

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 2, result.output
    (line,) = without_progress(result.output)  # one line besides the progress lines
    assert line.startswith("error: no FX rate from EUR to USD on 2026-02-03")
    assert "every billing amount is in EUR and inbox/fx/ has no EUR rates" in result.output
    assert "add daily EUR to USD rates to inbox/fx/ (columns rate_date, currency, rate)" in result.output
    assert 'or set reporting_currency = "EUR" in costledger.toml to report in EUR' in result.output

    # taking the second way: the same bill reports in EUR, 12.50 + 7.25 = 19.75
    config = ws / "costledger.toml"
    config.write_text(config.read_text().replace('reporting_currency = "USD"', 'reporting_currency = "EUR"'))
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        totals = con.execute("select currency, sum(billed_cost) from ledger.cost_ledger group by currency").fetchall()
    assert totals == [("EUR", Decimal("19.75"))]


def test_billing_in_several_currencies_asks_for_rates_only(tmp_path: Path) -> None:
    # EUR and USD: no one reporting currency would do, so only the rates are asked for
    ws = _workspace(tmp_path, ("12.50", "EUR"), ("3.00", "USD"))

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 2, result.output
    assert "no FX rate from EUR to USD on 2026-02-03" in result.output
    assert result.output.rstrip().endswith("add them to inbox/fx/") and "reporting_currency" not in result.output


def _ledger(ws: Path) -> list[dict]:
    """The published ledger's rows, every column but run_id, by name."""
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        found = con.execute("select * exclude (run_id) from ledger.cost_ledger order by lineage_id, category, model_id")
        names = [d[0] for d in found.description]
        return [dict(zip(names, row, strict=True)) for row in found.fetchall()]


def test_a_restated_fx_rate_converts_the_kept_rows_again(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, ("12.50", "EUR"), ("7.25", "EUR"))
    rates = ws / "inbox" / "fx" / "rates.csv"
    rates.parent.mkdir(parents=True, exist_ok=True)
    rates.write_text("rate_date,currency,rate\n2026-02-03,EUR,1.20\n")
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 0
    # (12.50 + 7.25) EUR x 1.20 = 19.75 x 1.20 = 23.70 USD
    assert sum(row["billed_cost"] for row in _ledger(ws)) == Decimal("23.70")

    # the day's rate restated: the bill is unchanged, so its kept rows are converted again in place
    rates.write_text("rate_date,currency,rate\n2026-02-03,EUR,1.10\n")
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 0
    rows = _ledger(ws)
    # 12.50 x 1.10 = 13.75 and 7.25 x 1.10 = 7.975: 21.725 USD, every row at the new rate
    assert sum(row["billed_cost"] for row in rows) == Decimal("21.725")
    assert {row["fx_rate"] for row in rows} == {Decimal("1.10")}

    # the same ledger as a workspace that only ever saw the restated rate
    fresh = _workspace(tmp_path / "fresh", ("12.50", "EUR"), ("7.25", "EUR"))
    (fresh / "inbox" / "fx").mkdir(parents=True, exist_ok=True)
    (fresh / "inbox" / "fx" / "rates.csv").write_text(rates.read_text())
    assert runner.invoke(app, ["run", "-w", str(fresh)]).exit_code == 0
    assert rows == _ledger(fresh)
