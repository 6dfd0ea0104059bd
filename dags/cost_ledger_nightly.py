"""Nightly: pull new or changed exports and parse new inbox files (mapped tasks; neither writes the
warehouse), load them (the one writer), then build, validate and publish each period touched; then
data_quality (a line per file with quarantined or rejected rows; fails past quarantine.max_share) and
anomalies (alerts on new ones). Params: `month`/`date` add a period, `source` pulls one family only."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task, task_group

from pipeline.orchestration.airflow_assets import DEFAULT_ARGS, LEDGER, WAREHOUSE_POOL
from pipeline.orchestration.runtime import run_day, workspace_path


@dag(
    schedule="@daily",
    doc_md=__doc__,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    max_active_runs=1,
    tags=["costledger", "ledger"],
    default_args={**DEFAULT_ARGS, "pool": WAREHOUSE_POOL},
    params={
        "month": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
        "date": Param(None, type=["null", "string"], format="date"),
        "source": Param(
            None, type=["null", "string"], pattern=r"^[a-z]+$", description="e.g. billing: pull only its exports"
        ),
    },
)
def cost_ledger_nightly():
    @task(pool="default_pool")
    def find_exports(params=None) -> list[dict]:
        from pipeline import pull

        return pull.find_exports(workspace_path(), source=params.get("source"))

    @task(
        pool="default_pool",
        map_index_template="{{ task.op_kwargs['batch']['source'] }}/{{ task.op_kwargs['batch']['folder'] }}",
    )
    def pull(batch: dict) -> list[str]:
        from pipeline import pull

        return pull.pull_batch(workspace_path(), batch)

    @task(trigger_rule="none_failed")  # reads meta.loads (read-only) in the writer's pool; after the pulls
    def list_files() -> list[dict]:
        from pipeline.ingest import pending

        return pending(workspace_path())

    @task(
        pool="default_pool",
        map_index_template="{{ task.op_kwargs['file']['source'] }}: {{ task.op_kwargs['file']['path'] }}",
    )
    def parse(file: dict) -> dict:  # HR files are not listed: the writer parses them (restricted data)
        from pipeline.ingest import stage

        return stage(workspace_path(), file["source"], file["path"])

    @task(trigger_rule="none_failed")  # runs when there was nothing to parse, too
    def ingest(params=None, dag_run=None, data_interval_end=None) -> list[str]:
        from pipeline import run

        day = run_day(params, data_interval_end, dag_run.run_after)
        periods = run.due(set(run.ingest(workspace_path())), day)  # as the CLI: none after the run's month
        if params.get("month") or params.get("date") or not periods:
            periods.add(params.get("month") or day.strftime("%Y-%m"))
        return sorted(periods)

    @task
    def build(period: str, params=None, dag_run=None, data_interval_end=None) -> str:
        from pipeline import run

        run.build(workspace_path(), period, as_of=run_day(params, data_interval_end, dag_run.run_after))
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
        # TaskFlow hands each task the XComArg of the one before, which its typing does not model
        publish(validate(build(period)))  # type: ignore[arg-type]

    @task  # once every period is published: the files this run loaded
    def data_quality(dag_run=None) -> list[str]:
        from pipeline import run

        return run.check_loads(workspace_path(), since=run.as_utc(dag_run.start_date or dag_run.run_after))

    @task(trigger_rule="none_failed")  # after a failed period the run stays red; the next night alerts
    def anomalies(params=None, dag_run=None, data_interval_end=None) -> int:
        from pipeline.orchestration.tasks import alert_in_task

        return alert_in_task(workspace_path(), run_day(params, data_interval_end, dag_run.run_after), dag_run)

    files = list_files()
    pull.expand(batch=find_exports()) >> files
    parse.expand(file=files) >> (periods := ingest())
    period_ledger.expand(period=periods) >> [data_quality(), anomalies()]


cost_ledger_nightly()
