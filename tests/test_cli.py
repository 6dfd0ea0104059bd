"""The CLI's exit codes and messages: 0 success, 1 validation failed, 2 bad input or usage."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import samples_or_skip

runner = CliRunner()


def test_sql_answers_a_select(demo_estate):
    result = runner.invoke(
        app,
        [
            "sql",
            "-w",
            str(demo_estate.root),
            "--format",
            "csv",
            "select count(distinct model_id) as n from ledger.cost_ledger where model_id not like '\\_\\_%' escape "
            "'\\'",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "6"]  # the six registered models


@pytest.mark.parametrize(
    "statement",
    ["delete from ledger.cost_ledger", "drop table ledger.cost_ledger", "copy ledger.cost_ledger to '/tmp/x.csv'"],
)
def test_sql_refuses_writes_and_file_access(demo_estate, statement):
    result = runner.invoke(app, ["sql", "-w", str(demo_estate.root), statement])
    assert result.exit_code == 2
    assert "query refused" in result.output
    rows = runner.invoke(
        app, ["sql", "-w", str(demo_estate.root), "--format", "csv", "select count(*) as n from ledger.cost_ledger"]
    )
    assert rows.output.splitlines()[1] != "0"


def test_check_passes_on_the_demo(demo_estate):
    result = runner.invoke(app, ["check", "-w", str(demo_estate.root)])
    assert result.exit_code == 0, result.output
    assert "3 periods reconcile exactly" in result.output


def test_a_missing_workspace_exits_2_naming_it(tmp_path):
    result = runner.invoke(app, ["run", "-w", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere" in result.output and "Traceback" not in result.output


def test_a_malformed_file_exits_2_naming_the_file_and_other_files_still_load(tmp_path):
    runner.invoke(app, ["init", str(tmp_path / "ws")])
    ws = tmp_path / "ws"
    (ws / "inbox" / "billing" / "broken.csv").write_text("this,is,not\nfocus,at,all\n")
    (ws / "inbox" / "usage" / "volumes.csv").write_text("usage_date,model_id,requests\n2026-01-01,m,10\n")
    result = runner.invoke(app, ["run", "-w", str(ws), "--month", "2026-01"])
    assert result.exit_code == 2
    assert "broken.csv" in result.output and "FOCUS" in result.output and "BilledCost" in result.output
    good = runner.invoke(
        app, ["sql", "-w", str(ws), "--format", "csv", "select path, status from meta.loads order by path"]
    )
    assert good.output.splitlines()[1:] == ["billing/broken.csv,rejected", "usage/volumes.csv,loaded"]


def test_a_bad_row_is_quarantined_with_row_column_and_reason(tmp_path):
    runner.invoke(app, ["init", str(tmp_path / "ws")])
    ws = tmp_path / "ws"
    (ws / "inbox" / "usage" / "volumes.csv").write_text(
        "usage_date,model_id,requests\n2026-01-01,m,10\n2026-01-02,m,lots\n"
    )
    result = runner.invoke(app, ["run", "-w", str(ws), "--month", "2026-01"])
    assert result.exit_code == 0, result.output
    out = runner.invoke(
        app,
        [
            "sql",
            "-w",
            str(ws),
            "--format",
            "csv",
            'select path, row_number, "column", value, reason from meta.quarantine',
        ],
    )
    assert out.output.splitlines()[1] == "usage/volumes.csv,2,requests,lots,expected a whole number"


def test_real_focus_sample_reconciles_exactly_per_billing_period(tmp_path):
    sample = samples_or_skip("billing", "focus-1.0", "focus_sample.csv")
    runner.invoke(app, ["init", str(tmp_path / "ws")])
    ws = tmp_path / "ws"
    (ws / "inbox" / "billing" / "focus_sample.csv").write_bytes(sample.read_bytes())
    expected: dict[str, list[Decimal]] = {}
    with sample.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            cell = expected.setdefault(row["BillingPeriodStart"][:7], [Decimal(0), Decimal(0)])
            cell[0] += Decimal(row["BilledCost"])
            cell[1] += Decimal(row["EffectiveCost"])
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    out = runner.invoke(
        app,
        [
            "sql",
            "-w",
            str(ws),
            "--format",
            "csv",
            "select billing_period, sum(source_amount), sum(source_effective_amount) from ledger.cost_ledger group by "
            "1 order by 1",
        ],
    )
    got = {line.split(",")[0]: [Decimal(v) for v in line.split(",")[1:]] for line in out.output.splitlines()[1:]}
    assert got == expected  # 2024-09: 20.52022672899 billed, 14.97651418586 effective
    assert runner.invoke(app, ["check", "-w", str(ws)]).exit_code == 0
