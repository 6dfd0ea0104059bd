"""Run the DAGs in-process with `dag.test()` over a stand-in for `pipeline.run`: the wiring (mapping,
params, retries, asset events). The runs over a generated estate are in test_dag_estate_*.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.dags.dagrun import fresh as _fresh
from tests.dags.dagrun import run_dag as _run
from tests.dags.dagrun import states as _states

PUBLISHED_ROWS = 3


@pytest.fixture
def stub_pipeline(monkeypatch, tmp_path):
    """`pipeline.run`, `pipeline.pull`, the listing and parse steps, the anomaly alert and the failure
    recorder replaced by recorders; `touched` is what ingest reports, `invalid` what fails validation, `exports` the
    batches there are to pull, `files` the inbox files there are to parse."""
    from pipeline import ingest, pull, run
    from pipeline.errors import ValidationFailed
    from pipeline.orchestration import failures, tasks

    calls: list[tuple] = []
    state = {"touched": ["2026-01"], "invalid": set(), "exports": [], "files": []}

    def validate(workspace, period):
        calls.append(("validate", period))
        if period in state["invalid"]:
            raise ValidationFailed(f"{period}: conservation check failed")

    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(tmp_path))
    monkeypatch.setattr(run, "ingest", lambda ws: calls.append(("ingest", ws)) or list(state["touched"]))
    monkeypatch.setattr(run, "build", lambda ws, p, *, as_of=None: calls.append(("build", p, as_of)) or "run-1")
    monkeypatch.setattr(run, "validate", validate)
    monkeypatch.setattr(run, "publish", lambda ws, p: calls.append(("publish", p)) or PUBLISHED_ROWS)
    monkeypatch.setattr(run, "report", lambda ws, m: calls.append(("report", m)) or Path(ws, m))
    monkeypatch.setattr(run, "check_loads", lambda ws, *, since: calls.append(("check_loads", ws)) or [])
    monkeypatch.setattr(
        pull,
        "find_exports",
        lambda ws, *, source=None: calls.append(("find_exports", ws, source)) or list(state["exports"]),
    )
    monkeypatch.setattr(pull, "pull_batch", lambda ws, batch: calls.append(("pull", batch["folder"])) or batch["keys"])
    monkeypatch.setattr(ingest, "pending", lambda ws: calls.append(("list_files", ws)) or list(state["files"]))
    monkeypatch.setattr(
        ingest, "stage", lambda ws, source, path: calls.append(("parse", source, path)) or {"status": "parsed"}
    )
    monkeypatch.setattr(tasks, "alert_in_task", lambda ws, day, dag_run: calls.append(("anomalies", ws, day)) or 0)
    monkeypatch.setattr(
        failures,
        "record_task_failure",
        lambda ws, **row: calls.append(("failure", row["task_id"], row["map_index"], row["state"], row["error"])),
    )
    return calls, state


def _ledger_events(dag_run) -> list[dict]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter_by(source_dag_id=dag_run.dag_id, source_run_id=dag_run.run_id)
        return sorted((event.extra for event in events), key=lambda extra: extra["period"])


def test_nightly_builds_touched_periods_and_the_asked_month(airflow_db, stub_pipeline, tmp_path):
    calls, state = stub_pipeline
    state["touched"] = ["2026-01"]
    dag_run = _run("cost_ledger_nightly", run_conf={"month": "2026-02"})

    assert dag_run.state == "success"
    # nothing to pull, nothing to parse
    assert calls[:3] == [
        ("find_exports", str(tmp_path), None),
        ("list_files", str(tmp_path)),
        ("ingest", str(tmp_path)),
    ]
    # Ingest touched 2026-01 and the param asked for 2026-02: one mapped group per period, in order.
    assert sorted(c[1] for c in calls if c[0] == "publish") == ["2026-01", "2026-02"]
    for period in ("2026-01", "2026-02"):
        steps = [c[0] for c in calls if c[1] == period]
        assert steps == ["build", "validate", "publish"]
    # the data-quality task and the anomaly alert, after both periods published
    assert sorted(c[:2] for c in calls[-2:]) == [("anomalies", str(tmp_path)), ("check_loads", str(tmp_path))]
    # No `date` param: as_of is the day before the run's interval ends (yesterday for a test run).
    as_of = {c[2] for c in calls if c[0] == "build"}
    assert as_of == {(dag_run.data_interval_end - dt.timedelta(days=1)).date()}
    assert _ledger_events(dag_run) == [
        {"period": "2026-01", "rows": PUBLISHED_ROWS},
        {"period": "2026-02", "rows": PUBLISHED_ROWS},
    ]


def test_nightly_pulls_each_remote_source_in_its_own_task_before_the_one_ingest(airflow_db, stub_pipeline):
    calls, state = stub_pipeline
    state["exports"] = [
        {"source": "billing", "folder": "aws-cur", "keys": ["2026/02/part-0.parquet"]},
        {"source": "telemetry", "folder": "dcgm", "keys": ["2026-02-27.json", "2026-02-28.json"]},
    ]
    dag_run = _run("cost_ledger_nightly", run_conf={"source": "billing"})

    assert dag_run.state == "success"
    assert ("find_exports", calls[0][1], "billing") == calls[0]  # the param narrows the listing
    steps = [c[0] for c in calls]
    assert steps.index("ingest") > max(i for i, step in enumerate(steps) if step == "pull")
    assert sorted(c[1] for c in calls if c[0] == "pull") == ["aws-cur", "dcgm"]
    states = _states(dag_run)
    assert states[("pull", 0)] == states[("pull", 1)] == "success"


def test_nightly_parses_each_listed_file_in_its_own_task_before_the_one_writer(airflow_db, stub_pipeline):
    calls, state = stub_pipeline
    state["exports"] = [{"source": "billing", "folder": "aws-cur", "keys": ["2026/02/part-0.parquet"]}]
    state["files"] = [
        {"source": "billing", "path": "aws-cur/2026/02/part-0.parquet", "checksum": "a" * 64},
        {"source": "fx", "path": "rates.csv", "checksum": "b" * 64},
    ]
    dag_run = _run("cost_ledger_nightly", run_conf={})

    assert dag_run.state == "success"
    steps = [c[0] for c in calls]
    # pull -> list -> the two parses -> the one writer, in that order
    assert steps.index("pull") < steps.index("list_files") < min(i for i, s in enumerate(steps) if s == "parse")
    assert max(i for i, s in enumerate(steps) if s == "parse") < steps.index("ingest")
    assert sorted(c[1:] for c in calls if c[0] == "parse") == [
        ("billing", "aws-cur/2026/02/part-0.parquet"),
        ("fx", "rates.csv"),
    ]
    parses = sorted(
        (ti.map_index, ti.rendered_map_index, ti.state) for ti in dag_run.get_task_instances() if ti.task_id == "parse"
    )
    assert parses == [(0, "billing: aws-cur/2026/02/part-0.parquet", "success"), (1, "fx: rates.csv", "success")]


def test_nightly_date_param_sets_period_and_as_of(airflow_db, stub_pipeline):
    calls, state = stub_pipeline
    state["touched"] = []
    dag_run = _run("cost_ledger_nightly", run_conf={"date": "2026-03-15"})

    assert dag_run.state == "success"
    assert [c for c in calls if c[0] == "build"] == [("build", "2026-03", dt.date(2026, 3, 15))]
    # after the publish, the anomaly alert as of the same day
    last_publish = max(i for i, c in enumerate(calls) if c[0] == "publish")
    alerts_sent = [c for c in calls[last_publish:] if c[0] == "anomalies"]
    assert len(alerts_sent) == 1 and alerts_sent[0][2] == dt.date(2026, 3, 15)


def test_nightly_without_new_files_rebuilds_the_month_of_its_day(airflow_db, stub_pipeline):
    calls, state = stub_pipeline
    state["touched"] = []
    dag_run = _run("cost_ledger_nightly", run_conf={})

    assert dag_run.state == "success"
    day = (dag_run.data_interval_end - dt.timedelta(days=1)).date()
    assert [c[1] for c in calls if c[0] == "publish"] == [day.strftime("%Y-%m")]


def test_manual_run_without_logical_date_uses_the_day_before_run_after(airflow_db, stub_pipeline):
    calls, state = stub_pipeline
    state["touched"] = []
    dag_run = _run("cost_ledger_nightly", logical_date=None, run_conf={})

    assert dag_run.state == "success"
    assert dag_run.logical_date is None and dag_run.data_interval_end is None
    day = (dag_run.run_after - dt.timedelta(days=1)).date()
    assert [c for c in calls if c[0] == "build"] == [("build", day.strftime("%Y-%m"), day)]


def test_failed_validation_blocks_only_its_period_without_retrying(airflow_db, stub_pipeline):
    calls, state = stub_pipeline
    state["touched"], state["invalid"] = ["2026-01", "2026-02"], {"2026-01"}
    dag = _fresh("cost_ledger_nightly")
    assert all(task.retries == 2 for task in dag.tasks)  # kept: the retry policy must stop the retry
    dag_run = dag.test(run_conf={})

    assert dag_run.state == "failed"
    assert [c[1] for c in calls if c[0] == "publish"] == ["2026-02"]
    assert [c[1] for c in calls if c[0] == "validate"].count("2026-01") == 1
    states = _states(dag_run)
    assert states[("period_ledger.validate", 0)] == "failed"
    # The failure callback recorded it (in meta.task_failures, here in the recorder), once: no retry.
    failures = [c for c in calls if c[0] == "failure"]
    assert failures == [
        ("failure", "period_ledger.validate", 0, "failed", "ValidationFailed: 2026-01: conservation check failed")
    ]
    assert states[("period_ledger.publish", 0)] == "upstream_failed"
    assert states[("period_ledger.publish", 1)] == "success"
    assert states[("anomalies", -1)] == "upstream_failed"  # not sent over a half-published night


def test_monthly_reports_the_month_param(airflow_db, stub_pipeline):
    calls, _ = stub_pipeline
    dag_run = _run("cost_report_monthly", run_conf={"month": "2026-02"})

    assert dag_run.state == "success"
    assert [c for c in calls if c[0] == "report"] == [("report", "2026-02")]


def test_monthly_without_event_or_param_reports_last_and_this_month(airflow_db, stub_pipeline):
    calls, _ = stub_pipeline
    dag_run = _run("cost_report_monthly", run_conf={})

    assert dag_run.state == "success"
    this_month = dag_run.run_after.replace(day=1)
    expected = [(this_month - dt.timedelta(days=1)).strftime("%Y-%m"), this_month.strftime("%Y-%m")]
    assert sorted(c[1] for c in calls if c[0] == "report") == expected
