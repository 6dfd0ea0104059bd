"""The pipeline's steps, as the CLI and the Airflow DAGs call them. Each step is a transaction:
it replaces its partition or changes nothing. Steps pass workspace paths and period keys."""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import duckdb

from pipeline import crash, labor_state, load_checks, lock, warehouse
from pipeline.errors import CostLedgerError
from pipeline.progress import Progress, count
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.ingest import IngestResult

log = logging.getLogger(__name__)
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# The months the ledger can hold: a period's end (the next month's first day), the month before
# it (month over month) and the impact windows around it must all be dates Python can hold.
FIRST_PERIOD, LAST_PERIOD = "1900-01", "9998-12"


def _ws(workspace: Path | str | Workspace) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)


Params = ParamSpec("Params")
Result = TypeVar("Result")


def _writer(
    step: Callable[Concatenate[Workspace, Params], Result],
) -> Callable[Concatenate[Path | str | Workspace, Params], Result]:
    """Hold the workspace's writer lock for the step (re-entrant: `run` holds it for all)."""

    @functools.wraps(step)
    def locked(workspace: Path | str | Workspace, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        ws = _ws(workspace)
        with lock.hold(ws.root, step.__name__):
            return step(ws, *args, **kwargs)

    return locked


def check_period(period: str) -> str:
    if not PERIOD.match(period or ""):
        raise CostLedgerError(f"{period!r} is not a month: expected YYYY-MM, e.g. 2026-01")
    if not FIRST_PERIOD <= period <= LAST_PERIOD:
        raise CostLedgerError(f"{period!r} is out of range: expected a month from {FIRST_PERIOD} to {LAST_PERIOD}")
    return period


def period_of(day: date) -> str:
    """The month (YYYY-MM) a day falls in, checked to be one the ledger can hold."""
    return check_period(f"{day.year:04d}-{day.month:02d}")


_CANDIDATE_ROWS = "select count(*) from ledger.cost_ledger_candidate where billing_period = ?"
_CANDIDATE_RUN_ID = "select any_value(run_id) from ledger.candidate_builds where billing_period = ?"
_CANDIDATE_DAY_ROWS = (
    "select charge_date, count(*) from ledger.cost_ledger_candidate where billing_period = ? "
    "group by charge_date order by charge_date nulls last"
)
# a first publish inserts whole days, about this many rows at a time (sorted in memory, not spilled)
PUBLISH_ROWS = 1_000_000


def _value(con: duckdb.DuckDBPyConnection, query: str, *params: Any) -> Any:
    """The single value of an aggregate query (which always returns one row)."""
    row = warehouse.first_row(con, query, list(params))
    if row is None:
        raise CostLedgerError(f"no row from {query!r}")
    return row[0]


@contextmanager
def _step(con: duckdb.DuckDBPyConnection, command: str, periods: list[str]) -> Iterator[dict]:
    """Record the step in meta.runs: running, then success or failed with the message."""
    crash.point(f"step.{command}")
    execution = uuid.uuid4().hex[:16]
    now = lambda: datetime.now(UTC).replace(tzinfo=None)  # noqa: E731
    con.execute(
        "insert into meta.runs values (?, null, ?, ?, ?, null, 'running', null)", [execution, command, periods, now()]
    )
    info: dict = {}
    try:
        yield info
    except BaseException as exc:
        con.execute(
            "update meta.runs set status = 'failed', finished_at = ?, message = ?, run_id = ? where execution_id = ?",
            [now(), str(exc)[:2000], info.get("run_id"), execution],
        )
        raise
    con.execute(
        "update meta.runs set status = 'success', finished_at = ?, message = ?, run_id = ? where execution_id = ?",
        [now(), info.get("message"), info.get("run_id"), execution],
    )


def _ingest(ws: Workspace, *, settle_seconds: float | None = None, progress: Progress | None = None) -> IngestResult:
    from pipeline.ingest import ingest as load_inbox

    _ = ws.config  # a bad config stops the run before any file is read
    with warehouse.connect(ws.warehouse) as con:
        result = load_inbox(ws, settle_seconds=settle_seconds, progress=progress, con=con)
        with _step(con, "ingest", sorted(result.periods)) as info:
            result.periods |= warehouse.pending_periods(con)  # changed earlier, never published
            info["message"] = (
                f"{len(result.loaded)} files loaded, {len(result.skipped)} unchanged, {len(result.errors)} rejected"
                + (f", {len(result.waiting)} waiting to settle" if result.waiting else "")
            )
    return result


def _labor_current(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    """staging.labor and staging.labor_rates whole before a step reads them: an ingest rebuilds
    them, but a step run on its own may come first (e.g. after a new version of their DDL, which
    replaces them empty)."""
    if labor_state.stale(con, ws.config):
        from pipeline.ingest import labor_rebuild  # the parsers' package: imported only to rebuild

        labor_rebuild.rebuild(ws, con)


@_writer
def ingest(workspace: Path | str | Workspace, *, settle_seconds: float | None = None) -> list[str]:
    """Load every new or changed inbox file that has settled; return the billing periods they
    touch. A file that cannot be read is recorded in meta.loads as rejected (with the message);
    the others load. A file still being written is left for a later run."""
    return sorted(_ingest(_ws(workspace), settle_seconds=settle_seconds).periods)


@_writer
def build(workspace: Path | str | Workspace, period: str, *, as_of: date | None = None) -> str:
    """Build the period's ledger into ledger.cost_ledger_candidate; return its run_id."""
    from pipeline.ledger.build import build_candidate

    ws = _ws(workspace)
    check_period(period)
    as_of = as_of or datetime.now(UTC).date()
    with warehouse.connect(ws.warehouse) as con, _step(con, "build", [period]) as info:
        _labor_current(ws, con)
        info["run_id"] = build_candidate(con, ws.config, period, as_of=as_of)
        rows = _value(con, _CANDIDATE_ROWS, period)
        info["message"] = f"{rows} candidate rows"
    return info["run_id"]


@_writer
def validate(workspace: Path | str | Workspace, period: str, *, full: bool = False) -> None:
    """Run the Great Expectations suites on the candidate; raise ValidationFailed (exit 1). The
    days and files that changed since the period last passed are checked, and its totals; `full`:
    every day and file."""
    from pipeline.validate import check_scope, validate_candidate

    ws = _ws(workspace)
    check_period(period)
    with warehouse.connect(ws.warehouse) as con:
        found = _value(con, _CANDIDATE_RUN_ID, period)
        with _step(con, "validate", [period]) as info:
            info["run_id"] = found
            _labor_current(ws, con)  # the labor privacy check reads staging.labor
            checking = check_scope(con, period, full=full)
            results = validate_candidate(
                con,
                period=period,
                run_id=found or "",
                data_docs_dir=ws.data_docs,
                restricted=ws.restricted,
                checking=checking,
            )
            days = checking.scope.days
            checked = "every day" if days is None else f"{count(len(days), 'changed day')} of {len(checking.days)}"
            info["message"] = f"{sum(r.success for r in results)} of {len(results)} expectations met ({checked})"


@_writer
def publish(workspace: Path | str | Workspace, period: str) -> int:
    """Publish the period (`_publish`), then compact the warehouse when warehouse.COMPACT_EVERY
    publishes have passed since the last compaction (a failed compaction leaves the period
    published and is tried again by the next publish)."""
    ws = _ws(workspace)
    check_period(period)
    with warehouse.connect(ws.warehouse) as con:
        rows = _publish(con, ws, period)
        if warehouse.compaction_due(con):
            try:
                _compact(con)
            except duckdb.Error as exc:
                log.warning("the warehouse was not compacted (the next publish tries again): %s", exc)
    return rows


def _publish(con: duckdb.DuckDBPyConnection, ws: Workspace, period: str) -> int:
    """Copy the period's candidate into ledger.cost_ledger and refresh the marts computed in Python
    (forecasts, savings, price/volume/mix), in one transaction (the candidate is kept: the next
    build of the period changes only what its new inputs change). Only the rows that changed are
    written again, each with its candidate row's run_id (the build that wrote it); the others keep
    theirs, and the publish's own run_id (the candidate's build) is in meta.runs. Rows are compared
    only on the days whose validated digest changed since they were published
    (meta.published_days), when the candidate was validated."""
    from pipeline import marts

    with _step(con, "publish", [period]) as info:
        with warehouse.transaction(con):
            rows = _value(con, _CANDIDATE_ROWS, period)
            info["run_id"] = _value(con, _CANDIDATE_RUN_ID, period)
            # a period published before: only its rows new, changed or gone; else every row, unhashed
            first = not _value(con, "select count(*) > 0 from ledger.cost_ledger where billing_period = ?", period)
            schema = _value(con, "select any_value(digest) from meta.schema_digest")
            compared = ""
            if first:  # every row, a run of days at a time (see the query)
                for first_day, last_day in _day_runs(con.execute(_CANDIDATE_DAY_ROWS, [period]).fetchall()):
                    con.execute(
                        warehouse.sql_text("publish", "cost_ledger_days"),
                        {"period": period, "first": first_day, "last": last_day},
                    )
            else:
                every_day, compared = _compare_days(con, period, info["run_id"], schema)
                changed_rows = warehouse.sql_text("publish", "changed_rows")
                con.execute(
                    f"create or replace temp table _changed_rows as {changed_rows}",
                    {"period": period, "every_day": every_day},
                )
                con.execute(warehouse.sql_text("publish", "cost_ledger_rows_out"), {"period": period})
                con.execute(warehouse.sql_text("publish", "cost_ledger_period"), {"period": period})
            changed = rows if first else _value(con, "select count(*) from _changed_rows")
            con.execute("delete from meta.published_days where billing_period = ?", [period])
            con.execute(
                warehouse.sql_text("publish", "published_days"),
                {"period": period, "run_id": info["run_id"], "schema_digest": schema},
            )
            con.execute(
                "delete from meta.pending_periods where period = ?", [period]
            )  # the candidate stays: the next build starts from it
            crash.point("publish")
            warehouse.refresh_telemetry_days(con)  # the days marts.data_through reads
            marts.refresh(con, ws.config, period)
        info["message"] = f"{rows} rows published ({changed} new, changed or gone{compared})"
    return rows


def _compact(con: duckdb.DuckDBPyConnection) -> None:
    with _step(con, "compact", []) as info:  # the step's row makes the checkpoint write
        began = time.perf_counter()
        warehouse.compact(con)
        info["message"] = f"row groups merged in {time.perf_counter() - began:.1f} s"


@_writer
def compact(workspace: Path | str | Workspace) -> None:
    """Merge the warehouse's small and partly deleted row groups (publish does it every
    warehouse.COMPACT_EVERY publishes)."""
    with warehouse.connect(_ws(workspace).warehouse) as con:
        _compact(con)


def _day_runs(days: list[tuple[date | None, int]]) -> list[tuple[date | None, date | None]]:
    """The (first, last) days of consecutive runs of `days` ((day, rows), in order, the null day
    last) of up to PUBLISH_ROWS rows each (a larger day alone); the null day is a run of its own."""
    runs: list[tuple[date | None, date | None]] = []
    start: date | None = None
    end: date | None = None
    held = 0
    for day, rows in days:
        if start is not None and (day is None or held + rows > PUBLISH_ROWS):
            runs.append((start, end))
            start, held = None, 0
        if day is None:
            runs.append((None, None))
            continue
        start = day if start is None else start
        end, held = day, held + rows
    if start is not None:
        runs.append((start, end))
    return runs


def _compare_days(con: duckdb.DuckDBPyConnection, period: str, run_id: str, schema: str) -> tuple[bool, str]:
    """Put the days of `period` whose rows publish must compare in _days_to_compare; return
    whether it must compare every day instead (the candidate, `run_id`, was not validated, or the
    period was not published with day digests under this schema, `schema`), and how many it
    compares, in words for the run's message."""
    con.execute("create or replace temp table _days_to_compare (charge_date date)")
    validated = _value(
        con,
        "select count(charge_date) from meta.validated_days where billing_period = ? and run_id = ?",
        period,
        run_id,
    )
    published = _value(
        con,
        "select count(*) > 0 and bool_and(schema_digest = ?) from meta.published_days where billing_period = ?",
        schema,
        period,
    )
    if not (validated and published):
        return True, "; every day compared"
    con.execute(
        f"insert into _days_to_compare {warehouse.sql_text('publish', 'days_to_compare')}",
        {"period": period, "run_id": run_id},
    )
    days = _value(con, "select count(*) from _days_to_compare")
    return False, f"; {days} changed day{'' if days == 1 else 's'} of {validated} compared"


def due(periods: set[str], as_of: date) -> set[str]:
    """The periods to build on `as_of`: a licence or invoice may run into months still to come;
    those are built when they arrive."""
    return {p for p in periods if p <= as_of.strftime("%Y-%m")}


def utc_now() -> datetime:
    """Now, as the warehouse keeps times: UTC, naive."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(moment: datetime) -> datetime:
    """A time (aware, or naive UTC) as the warehouse keeps times: UTC, naive."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@_writer
def check_loads(
    workspace: Path | str | Workspace,
    *,
    since: datetime,
    periods: list[str] | None = None,
    notify: Callable[[str], None] = log.warning,
    fail: bool = True,
) -> list[str]:
    """One line per file loaded or rejected at or after `since` (naive UTC) with quarantined or
    rejected rows, each passed to `notify`. Raises FilesFailed (exit 2) when one was rejected or
    had more than quarantine.max_share of its rows quarantined (unless `fail` is False)."""
    ws = _ws(workspace)
    max_share = ws.config.quarantine.max_share
    with warehouse.connect(ws.warehouse) as con:
        problems = load_checks.file_problems(con, since=since)
    lines = [problem.line(max_share) for problem in problems]
    for line in lines:
        notify(line)
    if fail:
        load_checks.verdict(problems, max_share, periods=periods)
    return lines


@_writer
def run(
    workspace: Path | str | Workspace,
    *,
    date: date | None = None,
    month: str | None = None,
    notify: Callable[[str], None] = log.warning,
    settle_seconds: float | None = None,
    progress: Progress | None = None,
    full_check: bool = False,
) -> list[str]:
    """ingest, then build + validate + publish every affected period (or the one asked for).
    Then one line per file with quarantined or rejected rows goes to `notify`, and FilesFailed
    (an InputError) is raised, after publishing, if a file was rejected or had more than
    quarantine.max_share of its rows quarantined. `settle_seconds` overrides the settle time.
    `progress` hears of each file and each period as it is done, and gets a summary line (files
    loaded, rows, periods published, time) once the periods are published. `full_check`: validate
    every day of each period, not only the days that changed since it last passed."""
    ws = _ws(workspace)
    progress = progress or Progress()
    clock = time.perf_counter()
    if date is not None:
        period_of(date)  # before anything is read
    if month:
        check_period(month)
    started = utc_now()
    result = _ingest(ws, settle_seconds=settle_seconds, progress=progress)
    as_of = date or datetime.now(UTC).date()
    periods = due(result.periods, as_of)
    if month:
        periods.add(check_period(month))  # plus any period new files touched: never leave one unbuilt
    elif date:
        periods.add(period_of(date))
    published: list[str] = []
    try:
        if periods:
            progress.phase("building, validating and publishing periods", len(periods))
        for period in sorted(periods):
            begun = time.perf_counter()
            build(ws, period, as_of=as_of)
            validate(ws, period, full=full_check)
            rows = publish(ws, period)
            published.append(period)
            progress.item(
                f"{period}: {count(rows, 'ledger row')} built, validated and published in "
                f"{time.perf_counter() - begun:.1f} s"
            )
    except CostLedgerError:
        check_loads(ws, since=started, notify=notify, fail=False)  # the files' lines, then the step's error
        raise
    progress.summary(_summary(result, published, time.perf_counter() - clock))
    try:
        check_loads(ws, since=started, periods=sorted(periods), notify=notify)
    except load_checks.FilesFailed as exc:  # chained to what a parser raised, for --debug
        raise exc from (result.causes[0] if result.causes else None)
    return sorted(periods)


def _summary(result: IngestResult, published: list[str], seconds: float) -> str:
    """The run's last progress line: files, rows, periods, time."""
    files = f"{count(len(result.loaded), 'file')} loaded ({count(result.rows_loaded, 'row')}"
    files += f", {result.rows_quarantined:,} quarantined)" if result.rows_quarantined else ")"
    others = [
        f"{len(result.skipped):,} unchanged" if result.skipped else "",
        f"{len(result.errors):,} rejected" if result.errors else "",
        f"{len(result.waiting):,} waiting to settle" if result.waiting else "",
    ]
    periods = f"{count(len(published), 'period')} published"
    periods += f" ({', '.join(published)})" if published else ""
    return f"run done: {', '.join([files, *filter(None, others)])}; {periods}; {seconds:.1f} s"


@_writer
def report(workspace: Path | str | Workspace, month: str, *, lang: str | None = None) -> Path:
    """Write reports/YYYY-MM/: the page and summary in English and Chinese (index.en.html,
    index.zh.html, summary.en.md, summary.zh.md), and index.html, summary.md, the extracts and
    charts in `lang` (en or zh; default: the config's [report] language); return the index path."""
    from pipeline.report import ReportSettings, write_report

    ws = _ws(workspace)
    check_period(month)
    r = ws.config.report
    lang = lang or r.language
    settings = ReportSettings(
        window_days=r.impact_window_days,
        bootstrap_draws=r.bootstrap_draws,
        bootstrap_seed=r.bootstrap_seed,
        idle_threshold=r.idle_threshold,
        commitment_discount=r.commitment_discount,
        low_utilisation=r.low_utilisation_percent,
        workloads=tuple(ws.config.workloads),
        gpu_pools=tuple(ws.config.gpu_pools),
    )
    with warehouse.connect(ws.warehouse) as con, _step(con, "report", [month]) as info:
        path = write_report(con, month=month, out_dir=ws.report_dir(month), lang=lang, settings=settings)
        info["message"] = str(path)
    return path
