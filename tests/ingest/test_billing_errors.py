"""Bad billing input exits 2 with one message naming the file and the cause: an unknown format
(with the formats known and the closest one), a file mixing two currencies without a currency
column, and a charge in a currency with no FX rate for its day."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.workspace import Workspace

runner = CliRunner()

FOCUS_HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
    "EffectiveCost,BillingCurrency,ProviderName,ServiceName"
)


def _workspace(tmp_path: Path, name: str, text: str) -> Path:
    ws = Workspace.init(tmp_path / "ws")
    target = ws.inbox / "billing" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return ws.root


def test_unknown_format_exits_2_naming_known_and_closest(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "odd.csv", "Date,Cost,Currency\n2026-01-01,1.00,USD\n")
    result = runner.invoke(app, ["run", "-w", str(root), "--month", "2026-01"])
    assert result.exit_code == 2, result.output
    assert "odd.csv" in result.output
    assert "unrecognised billing format: known formats are FOCUS 1.0/1.1/1.2" in result.output
    assert "AWS legacy CUR" in result.output and "GCP billing export" in result.output
    # Date and Cost are two of the five Azure signature columns: the closest, with what is missing
    assert (
        "closest is Azure cost details (found ['Date', 'Cost'], missing ['ChargeType', 'BillingPeriodStartDate', "
        "'SubscriptionId'])" in result.output
    )


def test_two_currencies_without_a_currency_column_exit_2(tmp_path: Path) -> None:
    header = (
        "bill/BillingPeriodStartDate,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,"
        "lineItem/UnblendedCost,pricing/currency"
    )
    rows = [
        "2026-01-01T00:00:00Z,Usage,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,1.00,USD",
        "2026-01-01T00:00:00Z,Usage,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,1.00,EUR",
    ]
    root = _workspace(tmp_path, "cur.csv", "\n".join([header, *rows]) + "\n")
    result = runner.invoke(app, ["run", "-w", str(root), "--month", "2026-01"])
    assert result.exit_code == 2, result.output
    assert "cur.csv" in result.output
    assert "mixes currencies ['EUR', 'USD'] but has no currency column" in result.output


def test_missing_fx_rate_exits_2_naming_currency_day_and_file(tmp_path: Path) -> None:
    row = (
        "acct,2026-01-01,2026-02-01,2026-01-05T00:00:00Z,2026-01-06T00:00:00Z,Usage,10.00,10.00,EUR,Microsoft,Virtual "
        "Machines"
    )
    root = _workspace(tmp_path, "eur.csv", f"{FOCUS_HEADER}\n{row}\n")
    result = runner.invoke(app, ["run", "-w", str(root), "--month", "2026-01"])
    assert result.exit_code == 2, result.output
    assert "no FX rate from EUR to USD on 2026-01-05 (first needed by inbox/billing/eur.csv, row 1;" in result.output
