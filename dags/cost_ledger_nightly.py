"""Nightly: load new inbox files, then rebuild, validate and publish each billing period touched.
A `month` or `date` param adds that period; a run with no new files rebuilds the month of its day."""

from __future__ import annotations

from datetime import date, timedelta

import pendulum
from airflow.sdk import ExceptionRetryPolicy, Param, RetryAction, RetryRule, dag, task, task_group

from pipeline.assets import LEDGER, WAREHOUSE_POOL, workspace_path

# Bad input, bad config or a failed validation (CostLedgerError) fails again on retry: fail at once.
NOT_RETRYABLE = ExceptionRetryPolicy(rules=[RetryRule("pipeline.errors.CostLedgerError", RetryAction.FAIL)])


def _run_day(params: dict, dag_run, data_interval_end) -> date:
    """The `date` param, else the day the run stands for: the day before its interval ends."""
    if params.get("date"):
        return date.fromisoformat(params["date"])
    return ((data_interval_end or dag_run.run_after) - timedelta(days=1)).date()


@dag(
    dag_id="cost_ledger_nightly",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["costledger", "ledger"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
        "retry_policy": NOT_RETRYABLE,
        "pool": WAREHOUSE_POOL,
    },
    params={
        "month": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
        "date": Param(None, type=["null", "string"], format="date"),
    },
)
def cost_ledger_nightly():
    @task
    def ingest(params=None, dag_run=None, data_interval_end=None) -> list[str]:
        from pipeline import run
        periods = set(run.ingest(workspace_path()))
        if params.get("month") or params.get("date") or not periods:
            periods.add(params.get("month") or _run_day(params, dag_run, data_interval_end).strftime("%Y-%m"))
        return sorted(periods)

    @task
    def build(period: str, params=None, dag_run=None, data_interval_end=None) -> str:
        from pipeline import run
        run.build(workspace_path(), period, as_of=_run_day(params, dag_run, data_interval_end))
        return period

    @task
    def validate(period: str) -> str:
        from pipeline import run
        run.validate(workspace_path(), period)
        return period

    @task(outlets=[LEDGER])
    def publish(period: str, outlet_events=None) -> int:
        from pipeline import run
        rows = run.publish(workspace_path(), period)
        outlet_events[LEDGER].extra = {"period": period, "rows": rows}
        return rows

    @task_group
    def period_ledger(period: str):  # one mapped group per period: a failed period blocks only itself
        publish(validate(build(period)))

    period_ledger.expand(period=ingest())


cost_ledger_nightly()
