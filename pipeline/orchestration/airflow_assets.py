"""What the Airflow DAGs share: the assets that chain them (not the owned hardware of
staging.assets), the pool that keeps the warehouse to one writer, and their retry and
failure-recording defaults. Imported at DAG parse time, so it imports nothing heavy."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, ExceptionRetryPolicy, RetryAction, RetryRule

from pipeline.orchestration import failures

# Updated by each period published by cost_ledger_nightly; cost_report_monthly is scheduled on it.
LEDGER = Asset(name="costledger_ledger", uri="costledger://warehouse/ledger/cost_ledger")
# Updated by each monthly report written to reports/YYYY-MM/.
REPORTS = Asset(name="costledger_reports", uri="costledger://workspace/reports")

# DuckDB allows one writing process per file: every task that opens the warehouse runs in this
# one-slot pool, so the nightly build and the report never race. Create it once per deployment:
#   airflow pools set costledger_warehouse 1 "one writer for warehouse.duckdb"
WAREHOUSE_POOL = "costledger_warehouse"

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
