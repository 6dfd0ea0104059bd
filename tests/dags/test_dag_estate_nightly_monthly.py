"""The nightly DAG, then the monthly report DAG, end to end in-process over a generated two-month
estate (slow: a file of its own, so a test worker runs it beside the other slow files)."""

from __future__ import annotations

import pytest

from tests.dags.dagrun import run_dag as _run
from tests.dags.dagrun import states as _states

MONTHS = ("2026-02", "2026-03")


@pytest.mark.slow
def test_nightly_then_monthly_on_a_generated_estate(airflow_db, tmp_path, monkeypatch):
    import duckdb

    from pipeline.generators.demo import generate_estate

    workspace = tmp_path / "workspace"
    estate = generate_estate(workspace, seed=7, months=MONTHS)
    month = estate.months[-1]
    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(workspace))
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "dag-test-pseudonym-key-not-a-secret")

    nightly = _run("cost_ledger_nightly", run_conf={"month": month})
    assert nightly.state == "success", _states(nightly)
    con = duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True)
    try:
        counts = dict(
            con.execute("select billing_period, count(*) from ledger.cost_ledger group by billing_period").fetchall()
        )
    finally:
        con.close()
    # The inbox holds every generated month, so ingest touches and the run publishes all of them.
    for period in estate.months:
        assert counts.get(period, 0) > 0, f"no ledger rows for {period}: {counts}"

    monthly = _run("cost_report_monthly", run_conf={"month": month})
    assert monthly.state == "success", _states(monthly)
    assert (workspace / "reports" / month / "index.html").is_file()
