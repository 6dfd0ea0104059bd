"""Every DAG parses, is wired to the pipeline the way the design says, and stays thin."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS.glob("*.py"))
HEAVY = ("pipeline.run", "polars", "duckdb", "pandas", "pyarrow", "great_expectations")


def test_dag_files_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"cost_ledger_nightly", "cost_report_monthly"} <= set(dagbag.dag_ids)


def test_every_dag_has_tags_retries_and_one_active_run(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        # the module docstring is the DAG's documentation in the Airflow UI
        assert dag.doc_md and dag.doc_md.split()[0] in ("Nightly:", "Monthly"), dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        assert not dag.catchup, dag.dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} does not retry"
            assert task.retry_exponential_backoff > 1, f"{dag.dag_id}.{task.task_id} backoff"
            # Every failed try is recorded in meta.task_failures.
            for kind, name in (("on_failure_callback", "on_failure"), ("on_retry_callback", "on_retry")):
                callbacks = getattr(task, kind)
                callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
                assert [c.__module__ + "." + c.__name__ for c in callbacks] == [
                    f"pipeline.orchestration.failures.{name}"
                ], task.task_id


def test_nightly_is_daily_and_publishes_the_ledger_asset(dagbag):
    from pipeline.orchestration.airflow_assets import LEDGER

    dag = dagbag.dags["cost_ledger_nightly"]
    assert dag.schedule == "@daily"
    assert set(dag.params) == {"month", "date", "source"}
    assert all(dag.params[name] is None for name in dag.params)  # defaults: no period asked
    publish = dag.get_task("period_ledger.publish")
    assert list(publish.outlets) == [LEDGER]
    # find_exports -> pull (mapped) -> list_files -> parse (mapped, one per file) -> ingest -> build
    # -> validate -> publish, the last three per period in one mapped group.
    assert dag.get_task("find_exports").downstream_task_ids == {"pull"}
    assert dag.get_task("pull").downstream_task_ids == {"list_files"}
    assert dag.get_task("list_files").downstream_task_ids == {"parse"}
    assert dag.get_task("parse").downstream_task_ids == {"ingest"}
    # nothing to pull, or nothing to parse, is not a failure
    assert dag.get_task("list_files").trigger_rule == dag.get_task("ingest").trigger_rule == "none_failed"
    assert dag.get_task("ingest").downstream_task_ids == {"period_ledger.build"}
    assert dag.get_task("period_ledger.build").downstream_task_ids == {"period_ledger.validate"}
    assert dag.get_task("period_ledger.validate").downstream_task_ids == {"period_ledger.publish"}
    # once every period is published, the data-quality check of the files the run loaded and the
    # anomaly alert; a period that fails fails the run already (an all_done leaf after it would
    # hide that from the run state), and the alert still runs (none_failed: its days come again)
    assert dag.get_task("period_ledger.publish").downstream_task_ids == {"data_quality", "anomalies"}
    assert dag.get_task("data_quality").trigger_rule == "all_success"
    assert dag.get_task("anomalies").trigger_rule == "none_failed"


@pytest.mark.parametrize(
    "dag_id, name, value",
    [
        ("cost_ledger_nightly", "month", "2026-13"),
        ("cost_ledger_nightly", "month", "2026-1"),
        ("cost_ledger_nightly", "date", "2026-02-30"),
        ("cost_report_monthly", "month", "March"),
    ],
)
def test_bad_period_params_are_refused_before_the_run_starts(dagbag, dag_id, name, value):
    from airflow.sdk.exceptions import ParamValidationError

    param = dagbag.dags[dag_id].params.get_param(name)
    assert param.resolve("2026-02-28" if name == "date" else "2026-02") is not None
    with pytest.raises(ParamValidationError):
        param.resolve(value)


def test_monthly_is_scheduled_on_what_the_nightly_publishes(dagbag):
    from pipeline.orchestration.airflow_assets import REPORTS

    nightly = dagbag.dags["cost_ledger_nightly"]
    monthly = dagbag.dags["cost_report_monthly"]
    (ledger,) = nightly.get_task("period_ledger.publish").outlets
    assert list(monthly.timetable.asset_condition.objects) == [ledger]
    # ... and at month end, with no event: 06:00 UTC on the 1st.
    assert monthly.timetable.timetable.expression == "0 6 1 * *"
    assert list(monthly.get_task("report").outlets) == [REPORTS]
    assert set(monthly.params) == {"month"}


def test_tasks_that_open_the_warehouse_share_the_one_slot_pool(dagbag):
    from pipeline.orchestration.airflow_assets import WAREHOUSE_POOL

    warehouse_tasks = {
        "cost_ledger_nightly": {
            "list_files",
            "ingest",
            "period_ledger.build",
            "period_ledger.validate",
            "period_ledger.publish",
            "anomalies",
        },
        "cost_report_monthly": {"report"},
    }
    for dag_id, task_ids in warehouse_tasks.items():
        for task_id in task_ids:
            assert dagbag.dags[dag_id].get_task(task_id).pool == WAREHOUSE_POOL, f"{dag_id}.{task_id}"
    # Pulls and parses never open the warehouse: they run in parallel, outside the one-slot pool.
    for task_id in ("find_exports", "pull", "parse"):
        assert dagbag.dags["cost_ledger_nightly"].get_task(task_id).pool == "default_pool", task_id


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_is_thin(path):
    source = path.read_text(encoding="utf-8")
    # "under about 80 lines" (STYLE.md): the nightly wires nine tasks and a group in 86 lines that
    # are not blank (the formatter puts a blank line after each task's import)
    written = [line for line in source.splitlines() if line.strip()]
    assert len(written) <= 90, f"{path.name} has over 90 lines that are not blank"
    # Module-level imports only: imports inside task functions run when the task does.
    top_level = [node for node in ast.parse(source).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [alias.name for node in top_level if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
    names += [f"{node.module}.{a.name}" for node in top_level if isinstance(node, ast.ImportFrom) for a in node.names]
    assert not [n for n in names if n.startswith(HEAVY)], f"{path.name} imports {names} at module level"
    assert "COSTLEDGER_WORKSPACE" not in source.split("def ", 1)[0], "workspace read at parse time"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_a_dag_file_loads_nothing_heavy(path, _airflow_home):
    """Import the file in a clean interpreter, as the dag-processor would, and list what it loaded."""
    code = (
        f"import runpy, sys\nrunpy.run_path({str(path)!r})\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1:] in ([], [""]), f"{path.name} loaded {result.stdout}"
