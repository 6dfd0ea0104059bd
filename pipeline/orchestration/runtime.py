"""What a DAG's task reads when it runs: the workspace folder and the day a run stands for.
Imported at DAG parse time, so it imports nothing heavy (and not Airflow)."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from pipeline.errors import ConfigError

WORKSPACE_ENV = "COSTLEDGER_WORKSPACE"


def workspace_path() -> str:
    """The workspace folder, from $COSTLEDGER_WORKSPACE; call it inside a task, never at parse time."""
    path = os.environ.get(WORKSPACE_ENV, "").strip()
    if not path:
        raise ConfigError(f"{WORKSPACE_ENV} is not set: point it at the costledger workspace folder")
    return path


def run_day(params: dict, data_interval_end: datetime | None, run_after: datetime) -> date:
    """The `date` param, else the day a nightly run stands for: the day before its interval ends
    (so a backfill run and the scheduled run of the same interval build the same ledger)."""
    if params.get("date"):
        return date.fromisoformat(params["date"])
    return ((data_interval_end or run_after) - timedelta(days=1)).date()
