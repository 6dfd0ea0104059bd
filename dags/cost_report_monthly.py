"""Monthly report: whenever the ledger is published, rewrite reports/YYYY-MM/ for the months the
nightly run published; and at month end (06:00 UTC on the 1st, no event) last month and this one,
so last month's report is final even on a night nothing was published. A `month` param asks for one."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from pipeline.orchestration.airflow_assets import DEFAULT_ARGS, LEDGER, REPORTS, WAREHOUSE_POOL
from pipeline.orchestration.runtime import workspace_path


@dag(
    dag_id="cost_report_monthly",
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 6 1 * *", timezone="UTC"), assets=[LEDGER]),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["costledger", "report"],
    default_args=DEFAULT_ARGS,
    params={"month": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$")},
)
def cost_report_monthly():
    @task
    def months(params=None, triggering_asset_events=None, dag_run=None) -> list[str]:
        if params.get("month"):
            return [params["month"]]
        events = (triggering_asset_events or {}).get(LEDGER, [])
        published = {event.extra.get("period") for event in events} - {None}
        if published:
            return sorted(published)
        when = max((event.timestamp for event in events), default=dag_run.run_after)
        last_month = when.replace(day=1) - timedelta(days=1)
        return sorted({last_month.strftime("%Y-%m"), when.strftime("%Y-%m")})

    @task(outlets=[REPORTS], pool=WAREHOUSE_POOL)
    def report(month: str, outlet_events=None) -> str:
        from pipeline import run

        index = run.report(workspace_path(), month)
        outlet_events[REPORTS].extra = {"month": month}
        return str(index)

    report.expand(month=months())


cost_report_monthly()
