"""The nightly DAG's anomaly task, run with `dag.test()` on a small real workspace: a new spike above
the configured threshold goes through the configured Airflow notifier once; `on_alert = "fail"`
fails the task (without a retry); with no notifier configured the anomalies are logged."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline.generators.formats import FOCUS_HEADER

DAGS = Path(__file__).resolve().parents[2] / "dags"
SPIKE_DAY = date(2026, 2, 8)  # a Sunday: the four Sundays before it cost 10.00 each
CONFIG = """reporting_currency = "USD"

[[models]]
id = "m"
name = "M"

[anomalies]
alert_excess = "100"
on_alert = "{on_alert}"

[[anomalies.notifiers]]
class = "tests.dags.recording_notifier.RecordingNotifier"
kwargs = {{ path = "{path}", text = "costledger: {{{{ anomaly_text }}}}" }}
"""


def _workspace(root: Path, *, on_alert: str) -> Path:
    """m's egress: 10.00 a day from Monday 5 January to Sunday 8 February, 510.00 on the 8th."""
    for folder in ("billing",):
        (root / "inbox" / folder).mkdir(parents=True)
    sent = root / "sent.jsonl"
    (root / "costledger.toml").write_text(CONFIG.format(on_alert=on_alert, path=sent))
    rows, day = [], date(2026, 1, 5)
    while day <= SPIKE_DAY:
        values = dict.fromkeys(FOCUS_HEADER, "")
        cost = "510.00" if day == SPIKE_DAY else "10.00"
        period = day.replace(day=1)
        values |= {
            "BillingAccountId": "111",
            "BillingPeriodStart": f"{period}T00:00:00Z",
            "BillingPeriodEnd": f"{(period + timedelta(days=32)).replace(day=1)}T00:00:00Z",
            "ChargePeriodStart": f"{day}T00:00:00Z",
            "ChargePeriodEnd": f"{day + timedelta(days=1)}T00:00:00Z",
            "ChargeCategory": "Usage",
            "ChargeFrequency": "Usage-Based",
            "BilledCost": cost,
            "EffectiveCost": cost,
            "BillingCurrency": "USD",
            "ProviderName": "AWS",
            "ServiceCategory": "Networking",
            "ServiceName": "AWS Data Transfer",
            "SkuPriceId": "P",
            "Tags": json.dumps({"model": "m"}),
        }
        rows.append(values)
        day += timedelta(days=1)
    with (root / "inbox" / "billing" / "egress.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FOCUS_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return sent


def _run(monkeypatch, root: Path, retries: int = 0):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(root))
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "dag-test-pseudonym-key-not-a-secret")
    dag = DagBag(dag_folder=str(DAGS / "cost_ledger_nightly.py")).dags["cost_ledger_nightly"]
    for task in dag.tasks:
        task.retries = retries
    return dag.test(run_conf={"date": SPIKE_DAY.isoformat()})


def _states(dag_run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances() if ti.map_index in (-1, 0)}


@pytest.mark.slow
def test_a_new_spike_is_sent_once_through_the_configured_notifier(airflow_db, tmp_path, monkeypatch):
    root = tmp_path / "ws"
    sent = _workspace(root, on_alert="notify")
    first = _run(monkeypatch, root)
    assert first.state == "success", _states(first)
    assert _states(first)["anomalies"] == "success"
    # 8 Feb: 510.00 against Sundays of 10.00 (median 10, MAD 0): band 10 +- max(0, 2.50, 1.00) ->
    # up to 12.50; 497.50 above it, over the 100 threshold
    (message,) = [json.loads(line) for line in sent.read_text().splitlines()]
    excess = "497.500000000000000000"
    assert message["anomalies"] == [{"day": "2026-02-08", "model": "m", "category": "operational", "excess": excess}]
    assert message["task"] == "anomalies"
    assert message["text"].startswith("costledger: 1 new cost anomaly above the expected band:")
    assert "2026-02-08 m operational: 510.00 USD, expected 10.00 (band up to 12.50; 497.50 above it)" in message["text"]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        alerted = con.execute("select charge_date, model_id, excess, alerted_by from meta.anomaly_alerts").fetchall()
    assert [(d, m, e) for d, m, e, _ in alerted] == [(SPIKE_DAY, "m", Decimal("497.5"))]
    assert alerted[0][3] == f"cost_ledger_nightly/{first.run_id}"

    second = _run(monkeypatch, root)  # the same night again: nothing new to send
    assert second.state == "success", _states(second)
    assert len(sent.read_text().splitlines()) == 1


@pytest.mark.slow
def test_on_alert_fail_fails_the_task_once_and_still_notifies(airflow_db, tmp_path, monkeypatch):
    root = tmp_path / "ws"
    sent = _workspace(root, on_alert="fail")
    dag_run = _run(monkeypatch, root, retries=2)  # the retry policy, not a lack of retries, stops it
    states = _states(dag_run)
    assert dag_run.state == "failed" and states["anomalies"] == "failed"
    assert states["period_ledger.publish"] == "success"  # the ledger is published all the same
    assert len(sent.read_text().splitlines()) == 1
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        failures = con.execute("select task_id, try_number, error from meta.task_failures").fetchall()
    # one failed try (AnomalyAlert is a CostLedgerError: no retry), recorded with the alert text
    assert [(t, n) for t, n, _ in failures] == [("anomalies", 1)]
    assert failures[0][2].startswith("AnomalyAlert: 1 new cost anomaly")


def test_without_a_notifier_the_anomalies_are_logged(capsys, caplog):
    from pipeline.marts.notifiers import LogNotifier

    LogNotifier()({"anomaly_text": "1 new cost anomaly above the expected band: ..."})
    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "1 new cost anomaly above the expected band" in logged
