"""What the Airflow DAGs share: the assets that chain them, the pool that keeps the warehouse to
one writer, where the workspace is, their retry and failure-recording defaults, and the day a run
stands for. Imported at DAG parse time, so it imports nothing heavy."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from airflow.sdk import Asset, ExceptionRetryPolicy, RetryAction, RetryRule

from pipeline.errors import ConfigError
from pipeline.orchestration import failures

# Updated by each period published by cost_ledger_nightly; cost_report_monthly is scheduled on it.
LEDGER = Asset(name="costledger_ledger", uri="costledger://warehouse/ledger/cost_ledger")
# Updated by each monthly report written to reports/YYYY-MM/.
REPORTS = Asset(name="costledger_reports", uri="costledger://workspace/reports")

# DuckDB allows one writing process per file: every task that opens the warehouse runs in this
# one-slot pool, so the nightly build and the report never race. Create it once per deployment:
#   airflow pools set costledger_warehouse 1 "one writer for warehouse.duckdb"
WAREHOUSE_POOL = "costledger_warehouse"

WORKSPACE_ENV = "COSTLEDGER_WORKSPACE"


def workspace_path() -> str:
    """The workspace folder, from $COSTLEDGER_WORKSPACE; call it inside a task, never at parse time."""
    path = os.environ.get(WORKSPACE_ENV, "").strip()
    if not path:
        raise ConfigError(f"{WORKSPACE_ENV} is not set: point it at the costledger workspace folder")
    return path


# Bad input, bad config or a failed validation (CostLedgerError) fails again on retry: fail at once.
# Anything else (a lost connection, a busy lock, a killed worker) retries with exponential backoff.
# Every failed try is recorded in meta.task_failures.
DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(hours=1),
    "retry_policy": ExceptionRetryPolicy(rules=[RetryRule("pipeline.errors.CostLedgerError", RetryAction.FAIL)]),
    "on_failure_callback": failures.on_failure,
    "on_retry_callback": failures.on_retry,
}


def run_day(params: dict, data_interval_end: datetime | None, run_after: datetime) -> date:
    """The `date` param, else the day a nightly run stands for: the day before its interval ends
    (so a backfill run and the scheduled run of the same interval build the same ledger)."""
    if params.get("date"):
        return date.fromisoformat(params["date"])
    return ((data_interval_end or run_after) - timedelta(days=1)).date()
