"""What the Airflow DAGs share: the assets that chain them, the pool that keeps the warehouse to
one writer, and where the workspace is. Imported at DAG parse time, so it imports nothing heavy."""

from __future__ import annotations

import os

from airflow.sdk import Asset

from pipeline.errors import ConfigError

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
