"""`costledger export-focus`: the active billing rows as a FOCUS dataset, exact, in FOCUS value
conventions; a restated month exports only its new version; the CSV reads back as FOCUS 1.2 with
the same totals to the last decimal."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from pipeline import run, warehouse
from pipeline.cli import app
from pipeline.export import export_focus, focus_columns
from pipeline.workspace import Workspace

runner = CliRunner()
HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
    "EffectiveCost,ListCost,BillingCurrency,ProviderName,ServiceName,InvoiceId,CommitmentDiscountId,CommitmentDiscountType,Tags"
)
ROWS = [
    # usage with a list price: nothing defaulted
    "111,2026-01-01,2026-02-01,2026-01-05T00:00:00Z,2026-01-06T00:00:00Z,usage,10.123456789012345678,"
    '10.123456789012345678,12.00,USD,AWS,Amazon Elastic Compute Cloud,INV-1,,,"{""model"": ""search-ranker""}"',
    # covered usage, billed 0, effective 4.80: ListCost and ContractedCost default to 4.80
    "111,2026-01-01,2026-02-01,2026-01-05T00:00:00Z,2026-01-05T01:00:00Z,Usage,0,4.80,,USD,AWS,Amazon Elastic Compute "
    "Cloud,INV-1,sp-1,Savings Plan,",
    # tax, no list price: defaults to 1.50
    "111,2026-01-01,2026-02-01,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,TAX,1.50,1.50,,USD,AWS,Tax,INV-1,,,",
]


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    path = ws.inbox / "billing" / "focus" / "2026-01.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    run.run(ws, date=date(2026, 1, 31))
    return ws


def test_csv_is_exact_and_in_focus_conventions(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    with warehouse.connect(ws.warehouse) as con:
        assert export_focus(con, tmp_path / "f.csv") == 3
    frame = pl.read_csv(tmp_path / "f.csv", infer_schema=False)
    assert frame.columns == focus_columns("1.2")
    assert "InvoiceId" in frame.columns and "x_SourceFile" in frame.columns
    first, covered, tax = frame.to_dicts()
    assert first["BilledCost"] == "10.123456789012345678"  # all 18 decimals, as delivered
    assert first["ListCost"] == "12.0" and first["x_DefaultedCosts"] == "ContractedCost"
    assert first["ChargeCategory"] == "Usage" and tax["ChargeCategory"] == "Tax"  # FOCUS spelling
    assert first["ChargePeriodStart"] == "2026-01-05T00:00:00Z" and first["BillingPeriodEnd"] == "2026-02-01T00:00:00Z"
    assert json.loads(first["Tags"]) == {"model": "search-ranker"}
    assert first["x_SourceFile"] == "billing/focus/2026-01.csv" and first["x_SourceRow"] == "1"
    # covered usage: max(billed 0, effective 4.80) = 4.80 for both defaulted costs
    assert (covered["BilledCost"], covered["ContractedCost"], covered["ListCost"]) == ("0.0", "4.8", "4.8")
    assert covered["CommitmentDiscountCategory"] == "Spend" and covered["x_DefaultedCosts"] == "ContractedCost,ListCost"
    assert tax["ContractedCost"] == "1.5" and tax["ServiceCategory"] == "Other"


def test_focus_1_0_has_no_invoice_id_and_parquet_keeps_types(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    with warehouse.connect(ws.warehouse) as con:
        export_focus(con, tmp_path / "f10.csv", version="1.0")
        export_focus(con, tmp_path / "f.parquet", fmt="parquet", month="2026-01")
    assert "InvoiceId" not in pl.read_csv(tmp_path / "f10.csv", n_rows=1).columns
    frame = pl.read_parquet(tmp_path / "f.parquet")
    assert frame.schema["BilledCost"] == pl.Decimal(38, 18)
    assert frame.schema["ChargePeriodStart"] == pl.Datetime("us", "UTC")
    # 10.123456789012345678 + 0 + 1.50 = 11.623456789012345678, exactly
    assert frame.get_column("BilledCost").sum() == Decimal("11.623456789012345678")


def test_a_restated_month_exports_only_the_new_version(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    path = ws.inbox / "billing" / "focus-v2" / "2026-01.csv"  # a new folder: a new version
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([HEADER, ROWS[2].replace("1.50,1.50", "2.00,2.00")]) + "\n", encoding="utf-8")
    run.run(ws, date=date(2026, 1, 31))
    with warehouse.connect(ws.warehouse) as con:
        export_focus(con, tmp_path / "f.csv")
    frame = pl.read_csv(tmp_path / "f.csv", infer_schema=False)
    assert frame.get_column("BilledCost").to_list() == ["2.0"]
    assert frame.get_column("x_SourceFile").to_list() == ["billing/focus-v2/2026-01.csv"]


def test_the_export_reads_back_with_the_same_totals(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    with warehouse.connect(ws.warehouse) as con:
        export_focus(con, tmp_path / "f.csv")
        before = con.execute("select sum(BilledCost), sum(EffectiveCost), count(*) from staging.billing").fetchone()
    again = Workspace.init(tmp_path / "again")
    (again.inbox / "billing" / "export.csv").write_bytes((tmp_path / "f.csv").read_bytes())
    run.run(again, date=date(2026, 1, 31))
    with warehouse.connect(again.warehouse) as con:
        after = con.execute("select sum(BilledCost), sum(EffectiveCost), count(*) from staging.billing").fetchone()
        fmt = con.execute("select detected_format from meta.loads where source = 'billing'").fetchone()[0]
    assert after == before and fmt == "focus-1.2"


def test_cli_writes_the_default_path_and_refuses_bad_options(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    result = runner.invoke(app, ["export-focus", "-w", str(ws.root), "--month", "2026-01", "--format", "parquet"])
    assert result.exit_code == 0, result.output
    assert (ws.root / "exports" / "focus-1.2-2026-01.parquet").is_file()
    assert "3 rows of FOCUS 1.2" in result.output
    for bad, message in (
        (["--format", "xlsx"], "expected one of csv, parquet"),
        (["--focus-version", "1.1"], "expected one of 1.2, 1.0"),
        (["--month", "2026-13"], "is not a month"),
    ):
        result = runner.invoke(app, ["export-focus", "-w", str(ws.root), *bad])
        assert result.exit_code == 2 and message in result.output, result.output


def test_convert_writes_what_ingest_and_export_would_without_a_workspace(tmp_path: Path) -> None:
    """`costledger convert`: one file straight to FOCUS; the same rows, to the last decimal, as
    ingesting it and exporting (only the lineage columns differ: no workspace, no load)."""
    ws = _workspace(tmp_path)
    with warehouse.connect(ws.warehouse) as con:
        export_focus(con, tmp_path / "exported.csv")
    # a fourth row whose cost does not parse: quarantined, listed beside the output, not written
    source = tmp_path / "bill.csv"
    source.write_text("\n".join([HEADER, *ROWS, ROWS[2].replace("1.50,1.50", "1.50,one")]) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "focus.csv"
    result = runner.invoke(app, ["convert", str(source), "--out", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "3 rows of FOCUS 1.2 written" in result.output and "1 rows quarantined" in result.output
    lineage = ["x_SourceFile", "x_LoadId"]
    converted = pl.read_csv(out, infer_schema=False)
    assert converted.drop(lineage).equals(pl.read_csv(tmp_path / "exported.csv", infer_schema=False).drop(lineage))
    assert converted.get_column("x_SourceFile").unique().to_list() == ["bill.csv"]
    quarantined = pl.read_csv(out.with_name("focus.csv.quarantine.csv"), infer_schema=False)
    assert quarantined.rows() == [
        ("4", "EffectiveCost", "one", "expected an exact decimal number within +/-1e12 (e.g. 12.34)")
    ]
    # a clean run removes the old list; an unknown file and a folder exit 2 naming the file
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["convert", str(source), "-o", str(out), "--format", "csv"]).exit_code == 0
    assert not out.with_name("focus.csv.quarantine.csv").exists()
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    for bad, message in ((tmp_path / "other.csv", "unrecognised billing format"), (tmp_path, "no such file")):
        result = runner.invoke(app, ["convert", str(bad), "-o", str(tmp_path / "x.parquet")])
        assert result.exit_code == 2 and message in result.output and str(bad) in result.output, result.output
