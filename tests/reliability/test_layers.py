"""Great Expectations across the layers: raw (every file balances), staging (billing rules),
ledger; warn and fail severities; results in meta.check_results; Data Docs in the workspace."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import check_queries, run, warehouse
from pipeline.errors import ValidationFailed
from pipeline.workspace import Workspace
from tests.reliability.test_bad_inputs import CONFIG, focus, focus_row

runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG).root
    # one late charge (January usage billed in February): loaded, and a staging warning
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(
        focus(focus_row("10.00"), focus_row("1.00", day="2026-01-31"), focus_row("oops"))
    )
    run.run(ws)
    return ws


def test_every_layer_is_checked_with_both_severities(ws: Path) -> None:
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select suite, severity, success, observed from meta.check_results where billing_period = '2026-02' order "
            "by suite, severity"
        ).fetchall()
    by_suite = {(s, sev): (ok, obs) for s, sev, ok, obs in rows}
    assert by_suite[("raw_load_balance", "fail")][0] is True
    # the file had a quarantined row: the raw layer warns, naming the file
    ok, observed = by_suite[("raw_load_balance", "warn")]
    assert ok is False and "billing/feb.csv" in observed
    assert by_suite[("staging_billing", "warn")][0] is False  # the late charge
    assert all(ok for (suite, sev), (ok, _) in by_suite.items() if sev == "fail")
    assert {s for s, _ in by_suite} >= {"raw_load_balance", "staging_billing", "ledger_rows", "billing_conservation"}
    assert (ws / "data_docs" / "index.html").is_file()


def test_a_load_that_does_not_balance_blocks_the_publish(ws: Path) -> None:
    with duckdb.connect(str(ws / "warehouse.duckdb")) as con:
        con.execute("delete from staging.billing where row_number = 1")  # a row lost after loading
    run.build(ws, "2026-02")
    with pytest.raises(ValidationFailed, match="raw_load_balance"):
        run.validate(ws, "2026-02")


def test_a_load_s_staged_rows_count_each_row_number_once_across_blocks(ws: Path) -> None:
    # feb.csv: rows 1 and 2 staged, row 3 quarantined. A copy of row 1 (row number 1 again) and a
    # row numbered 4097 (the next block of 4,096 numbers, where it sets the same bit as row 1)
    # make 4 staged rows but 3 distinct row numbers: 1, 2 and 4097
    with warehouse.connect(ws / "warehouse.duckdb") as con:
        con.execute("insert into staging.billing select * from staging.billing where row_number = 1")
        con.execute(
            "insert into staging.billing select * replace (4097::bigint as row_number) "
            "from staging.billing where row_number = 2"
        )
        query = check_queries.load_balance_sql(con)
        found = con.execute(
            f"select path, staged_rows, balanced from ({query})",
            {"period": "2026-02", "since": None, "source_days": None, "gpu_days": None},
        ).fetchall()
    assert found == [("billing/feb.csv", 3, False)]  # 3 rows staged, where 2 loaded: not balanced
