"""Airflow task failures, recorded in the warehouse (`meta.task_failures`) by the DAGs' failure and
retry callbacks, so `costledger sql` shows what failed beside the steps' own `meta.runs` rows.

Imported by the DAG files at parse time: nothing heavy at module level."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pipeline.orchestration.runtime import workspace_path

log = logging.getLogger(__name__)

# The warehouse has one writer; a callback whose task ran outside the warehouse pool may find it
# busy. Wait this long for the lock, then give up (the failure is in the Airflow log either way).
LOCK_WAIT_SECONDS = 60


def record_task_failure(
    workspace: str,
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    try_number: int,
    state: str,
    error: str,
    log_url: str | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
) -> None:
    """Insert one meta.task_failures row, retrying while another process holds the warehouse."""
    import duckdb

    from pipeline import warehouse
    from pipeline.workspace import Workspace

    path = Workspace.open(workspace).warehouse
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with warehouse.connect(path) as con:
                con.execute(
                    "insert into meta.task_failures values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        dag_id,
                        run_id,
                        task_id,
                        map_index,
                        try_number,
                        state,
                        datetime.now(UTC).replace(tzinfo=None),
                        error[:4000],
                        log_url,
                    ],
                )
            return
        except duckdb.IOException:  # "Could not set lock on file": another writer has it
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)


def _record(context: Mapping[str, Any], state: str) -> None:
    ti = context["ti"]
    exception = context.get("exception")
    try:
        record_task_failure(
            workspace_path(),
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index if ti.map_index is not None else -1,
            try_number=ti.try_number,
            state=state,
            error=f"{type(exception).__name__}: {exception}"
            if exception
            else "(no exception: killed, timed out or zombie)",
            log_url=getattr(ti, "log_url", None),
        )
    except Exception:  # a callback must never hide the task's own error
        log.exception("could not record the failure of %s.%s in meta.task_failures", ti.dag_id, ti.task_id)


def on_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback: the task failed for good."""
    _record(context, "failed")


def on_retry(context: Mapping[str, Any]) -> None:
    """on_retry_callback: the try failed, Airflow will try again after the backoff."""
    _record(context, "up_for_retry")
