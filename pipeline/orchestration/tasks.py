"""Task bodies that need what only a running Airflow task has (its context). A DAG imports this
inside the task, never at parse time: it loads the step it runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from airflow.sdk import get_current_context

from pipeline.marts.alerts import alert


def alert_in_task(workspace: str, day: date, dag_run: Any) -> int:
    """`alert` from an Airflow task: the notifiers see the task's context. Returns the count."""
    sent = alert(workspace, day=day, context=get_current_context(), alerted_by=f"{dag_run.dag_id}/{dag_run.run_id}")
    return len(sent)
