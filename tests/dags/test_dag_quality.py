"""The nightly DAG's data-quality task, on the real pipeline with `dag.test()`: a file whose every
row is quarantined fails the run at data_quality, after the good file's period is published."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
HEADER = (
    "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,ProviderName,ServiceName"
)


def _row(cost: str) -> str:
    return f"{cost},10,USD,2026-02-01,2026-03-01,2026-02-03,2026-02-04,Usage,AWS,Amazon EC2"


@pytest.mark.slow
def test_a_fully_quarantined_file_fails_data_quality_after_the_good_file_is_published(
    airflow_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws").root
    good = [HEADER, _row("10.00"), _row("11.00"), _row("3.00")]
    (ws / "inbox" / "billing" / "good.csv").write_text("\n".join(good) + "\n")
    (ws / "inbox" / "billing" / "bad.csv").write_text("\n".join([HEADER, _row("ten"), _row("eleven")]) + "\n")
    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(ws))
    dag = DagBag(dag_folder=str(DAGS / "cost_ledger_nightly.py")).dags["cost_ledger_nightly"]
    for task in dag.tasks:
        task.retries = 0

    with caplog.at_level(logging.WARNING, logger="pipeline.run"):
        dag_run = dag.test(run_conf={"date": "2026-02-28"})

    states = {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}
    assert states[("period_ledger.publish", 0)] == "success"
    assert states[("data_quality", -1)] == "failed"
    assert dag_run.state == "failed"
    # both rows quarantined for their BilledCost: 2/2 = 100% > 0.5
    line = "billing/bad.csv: 2 rows in, 0 loaded, 2 quarantined (100.0%, more than quarantine.max_share = 0.5)"
    logged = [record.getMessage() for record in caplog.records]
    assert any(message.startswith(line) for message in logged), logged
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        # the good file is published: 10.00 + 11.00 + 3.00 = 24.00
        assert con.execute("select sum(billed_cost) from ledger.cost_ledger").fetchone()[0] == Decimal("24.00")
        (error,) = con.execute("select error from meta.task_failures where task_id = 'data_quality'").fetchone()
    assert error.startswith("FilesFailed: 1 input file(s) rejected or with more than quarantine.max_share = 0.5")
    assert line in error
