"""What a run says about quarantined and rejected rows, through `costledger run`: one line per file
(file, rows in, loaded, quarantined, top reasons), and exit 2 after the good files are published
when a file was rejected or more than quarantine.max_share of its rows were quarantined."""

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
NOT_A_NUMBER = "BilledCost: expected an exact decimal number within +/-1e12 (e.g. 12.34)"


def _row(cost: str, category: str = "Usage", service: str = "Amazon EC2") -> str:
    return f"{cost},10,USD,2026-02-01,2026-03-01,2026-02-03,2026-02-04,{category},AWS,{service}"


def _workspace(tmp_path: Path, files: dict[str, list[str]], *, max_share: str | None = None) -> Path:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    if max_share is not None:
        config = ws / "costledger.toml"
        config.write_text(config.read_text().replace('max_share = "0.5"', f'max_share = "{max_share}"'))
    for name, rows in files.items():
        (ws / "inbox" / "billing" / name).write_text("\n".join(rows) + "\n")
    return ws


def _billed(ws: Path) -> Decimal:
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select coalesce(sum(billed_cost), 0) from ledger.cost_ledger").fetchone()[0]


GOOD = [HEADER, _row("10.00"), _row("11.00"), _row("3.00")]


def test_a_file_with_every_row_quarantined_exits_2_naming_the_file_and_the_reason(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, {"good.csv": GOOD, "bad.csv": [HEADER, _row("ten"), _row("eleven")]})

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 2, result.output
    lines = without_progress(result.output)
    # 2 rows in, both quarantined for their BilledCost: 2/2 = 100% > 0.5
    share = "(100.0%, more than quarantine.max_share = 0.5)"
    assert f"billing/bad.csv: 2 rows in, 0 loaded, 2 quarantined {share}: {NOT_A_NUMBER} (2 rows)" in lines
    assert "published: 2026-02" in lines  # the good file's period, before the error
    assert lines[-1].startswith(
        "error: 1 input file(s) rejected or with more than quarantine.max_share = 0.5 of "
        "their rows quarantined: billing/bad.csv;"
    )
    assert "Traceback" not in result.output
    assert _billed(ws) == Decimal("24.00")  # good.csv published: 10.00 + 11.00 + 3.00


def test_a_few_quarantined_rows_are_reported_and_the_run_passes(tmp_path: Path) -> None:
    # 4 rows, 1 bad: 1/4 = 25% is not more than 0.5; and 1 of 2 rows (50%, exactly the share) neither
    ws = _workspace(
        tmp_path,
        {
            "a.csv": [*GOOD, _row("twelve")],
            # other charges than a.csv's (S3, not EC2): a part of the export, not a new version of a.csv
            "b.csv": [
                HEADER,
                _row("2.00", service="Amazon S3"),
                _row("9.99", "Bonus", "Amazon S3"),
            ],  # Bonus: no FOCUS category
        },
    )

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 0, result.output
    lines = without_progress(result.output)
    assert f"billing/a.csv: 4 rows in, 3 loaded, 1 quarantined: {NOT_A_NUMBER} (1 row)" in lines
    # 1 of 2 rows: 50%, exactly the share, is not more than it
    (b_line,) = [line for line in lines if line.startswith("billing/b.csv: ")]
    assert b_line.startswith("billing/b.csv: 2 rows in, 1 loaded, 1 quarantined: ChargeCategory")
    assert lines[-1] == "published: 2026-02"
    assert _billed(ws) == Decimal("26.00")  # 10.00 + 11.00 + 3.00 + 2.00
    # each file is reported by the run that loads it: nothing new, nothing to say
    again = runner.invoke(app, ["run", "-w", str(ws)])
    assert (again.exit_code, without_progress(again.output)) == (0, ["published: nothing new"])


def test_quarantine_max_share_is_a_setting(tmp_path: Path) -> None:
    files = {"a.csv": [*GOOD, _row("twelve")]}
    # 1 of 4 rows (25%) quarantined: more than 0.2
    strict = _workspace(tmp_path / "strict", files, max_share="0.2")
    result = runner.invoke(app, ["run", "-w", str(strict)])
    assert result.exit_code == 2, result.output
    share = "(25.0%, more than quarantine.max_share = 0.2)"
    assert f"billing/a.csv: 4 rows in, 3 loaded, 1 quarantined {share}: {NOT_A_NUMBER} (1 row)" in result.output
    assert _billed(strict) == Decimal("24.00")  # the 3 good rows are published all the same
    # every row quarantined, and a share of 1 allowed: reported, exit 0
    lenient = _workspace(tmp_path / "lenient", {"bad.csv": [HEADER, _row("ten")]}, max_share="1")
    result = runner.invoke(app, ["run", "-w", str(lenient)])
    assert result.exit_code == 0, result.output
    assert f"billing/bad.csv: 1 rows in, 0 loaded, 1 quarantined: {NOT_A_NUMBER} (1 row)" in result.output


def test_a_rejected_file_exits_2_with_its_line_and_is_tried_again(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, {"good.csv": GOOD, "notes.csv": ["hello,world", "1,2"]})

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("billing/notes.csv: ")]
    assert line.startswith("billing/notes.csv: rejected, 0 rows in, 0 loaded, 0 quarantined: ")
    assert "unrecognised billing format" in line
    assert _billed(ws) == Decimal("24.00")
    # a rejected file is read again by every run until it is fixed or removed
    again = runner.invoke(app, ["run", "-w", str(ws)])
    assert again.exit_code == 2 and "billing/notes.csv: rejected" in again.output
