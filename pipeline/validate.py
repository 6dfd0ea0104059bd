"""Validate a candidate ledger period with Great Expectations before it is published.

Each suite is a Great Expectations 1.x `ExpectationSuite` stored as JSON in
`expectations/<name>.json` (the format `ExpectationSuite.to_json_dict()` writes), with two project
keys in the suite's `meta`:
`frame`, the DuckDB query it runs on (pipeline.check_queries.FRAMES), and `index_columns`, the columns that identify
an unexpected row in the observed text. Each expectation states its `severity`: `critical` blocks
the publish ("fail"), `warning` is only recorded ("warn").

This module reads the suites, runs them on their frames and records the results; the frames are
computed in DuckDB by pipeline.check_queries, so money never reaches Great Expectations as a
number it could round (exact comparisons arrive as booleans such as `billed_exact`).
Great Expectations is imported inside the functions that use it: importing this module is cheap.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import math
import queue
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline.check_queries import (
    DAY_DIGESTS_SQL,
    DELETE_RESULTS_SQL,
    EVERYTHING,
    FRAMES,
    INSERT_RESULT_SQL,
    VALIDATION_BASIS_SQL,
    Scope,
    drop_marts,
    frame_data,
    keep_marts,
    record_kept_marts,
)
from pipeline.columns import CATEGORIES, COST_BASES, PHASES, AllocationMethod
from pipeline.errors import ConfigError, ValidationFailed
from pipeline.warehouse import SQL_DIR, insert_values, refresh_telemetry_days, transaction

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext, EphemeralDataContext

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
# Great Expectations' FailureSeverity -> the project's severity.
SEVERITIES: Mapping[str, str] = {"critical": "fail", "warning": "warn"}
# Values the suites refer to as {"$PARAMETER": name}: declared once, in pipeline.columns.
SUITE_PARAMETERS: Mapping[str, list[str]] = {
    "categories": list(CATEGORIES),
    "allocation_methods": [m.value for m in AllocationMethod],
    "cost_bases": list(COST_BASES),
    "phases": list(PHASES),
}
DATA_DOCS_SITE = "costledger"
MAX_EXAMPLES = 5
DECIMAL_TEXT = re.compile(r"^-?[0-9]+\.[0-9]+$")


@dataclass(frozen=True)
class CheckResult:
    """One evaluated expectation."""

    suite: str
    expectation: str
    column: str | None
    severity: str  # "fail" | "warn"
    success: bool
    observed: str


@dataclass(frozen=True)
class Suite:
    """A suite file, read and checked: what to run on which frame."""

    name: str
    path: Path
    frame: str
    index_columns: tuple[str, ...]
    definition: dict[str, Any]  # the JSON, as gx.ExpectationSuite(**definition) takes it


def validate_candidate(
    con: duckdb.DuckDBPyConnection,
    *,
    period: str,
    run_id: str,
    data_docs_dir: Path | None = None,
    restricted: Path | None = None,
    checking: Checking | None = None,
) -> list[CheckResult]:
    """Run every suite in expectations/ on the candidate ledger rows of `period`, store one row
    per result in meta.check_results (replacing this run_id and period's earlier rows), build
    Data Docs into `data_docs_dir` when given, and raise ValidationFailed naming every failed
    fail-severity expectation. Return the results otherwise. `restricted`: the HR database the
    labor conservation check runs in (default: the workspace's, beside the warehouse).

    The ledger rows, the marts (DAY_GRAIN_MARTS) and the loads' balance are checked for what changed
    since the period last passed (check_scope, unless `checking` is what it returned: for every
    day and every load, `check_scope(con, period, full=True)`); the period's totals every time,
    the ledger's billing rows traced to their charges for the days checked, with the other days'
    as the last validation that passed traced them (keep_marts)."""
    started = datetime.now(UTC).replace(tzinfo=None)
    suites = load_suites()
    runner = _SuiteRunner(suites, data_docs_dir, run_name=f"{period}_{run_id}")
    try:
        checking = checking or check_scope(con, period)
        kept = keep_marts(con, period, checking.scope)
        for name in dict.fromkeys(s.frame for s in suites):  # each frame once, in the suites' order
            frame = load_frame(
                con,
                name,
                period=period,
                suites=[s for s in suites if s.frame == name],
                restricted=restricted,
                scope=checking.scope,
                kept=kept,
            )
            runner.check(name, frame)
        results = runner.results()
        record_results(con, results, period=period, run_id=run_id)
        runner.build_data_docs()
        failed = [r for r in results if r.severity == "fail" and not r.success]
        if failed:
            raise ValidationFailed(_failure_message(failed, period=period, run_id=run_id))
        record_validated_days(con, checking, period=period, run_id=run_id, started=started)
    finally:
        runner.close()
        drop_marts(con)
    return results


@dataclass(frozen=True)
class Checking:
    """What a validation checks (`scope`), and what it records when it passes: the period's day
    digests (`days`: day, digest, GPU digest, source digest) and the basis they were taken on."""

    scope: Scope
    days: list[tuple[date | None, str, str, str]]
    basis: str


def check_scope(con: duckdb.DuckDBPyConnection, period: str, *, full: bool = False) -> Checking:
    """Every day and every load when `full`, when the period never passed, or when it passed on
    another basis (suites, check or mart SQL, build recipe: config and allocation code);
    else the days whose digests changed (or appeared, or went) and the loads since that validation."""
    refresh_telemetry_days(con)  # what the samples' digests add up
    days = [tuple(row) for row in con.execute(DAY_DIGESTS_SQL, {"period": period}).fetchall()]
    ((sql_basis,),) = con.execute(VALIDATION_BASIS_SQL, {"period": period}).fetchall()
    basis = f"{_checks_digest()} {sql_basis}"
    earlier = con.execute(
        "select charge_date, digest, gpu_digest, source_digest, validated_at from meta.validated_days "
        "where billing_period = ? and basis = ?",
        [period, basis],
    ).fetchall()
    if full or not earlier:
        return Checking(EVERYTHING, days, basis)
    was = {day: digests for day, *digests, _ in earlier}
    now = {day: digests for day, *digests in days}

    def changed(part: int) -> list[date]:
        empty = ("", "", "")
        return sorted(
            d for d in was.keys() | now.keys() if d is not None and was.get(d, empty)[part] != now.get(d, empty)[part]
        )

    since = max(at for *_, at in earlier)
    return Checking(Scope(days=changed(0), gpu_days=changed(1), since=since, source_days=changed(2)), days, basis)


def record_validated_days(
    con: duckdb.DuckDBPyConnection, checking: Checking, *, period: str, run_id: str, started: datetime
) -> None:
    """Replace the period's rows in meta.validated_days with the day digests that just passed, and
    keep what keep_marts computed for the next validation (record_kept_marts: its tables must
    still be there)."""
    rows = [
        (period, day, digest, gpu, source, checking.basis, run_id, started)
        for day, digest, gpu, source in checking.days
    ]
    with transaction(con):
        record_kept_marts(con, period)  # what keep_marts computed, for the next validation
        con.execute("delete from meta.validated_days where billing_period = ?", [period])
        insert_values(
            con,
            "insert into meta.validated_days (billing_period, charge_date, digest, gpu_digest, source_digest, basis, "
            "run_id, validated_at)",
            rows or [(period, None, "", "", "", checking.basis, run_id, started)],  # a period with no day passed too
        )


def _checks_digest() -> str:
    """A digest of the checks' own code: the suites, the check and mart SQL, this module's code."""
    files = [
        *sorted(EXPECTATIONS_DIR.glob("*.json")),
        *sorted((SQL_DIR / "checks").glob("*.sql")),
        *sorted((SQL_DIR / "marts").glob("*.sql")),
        Path(__file__),
        Path(__file__).with_name("check_queries.py"),
    ]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class _SuiteRunner:
    """Runs the suites in a thread of their own, each as soon as its frame is handed over: Great
    Expectations (Python, holding the GIL) checks one frame while DuckDB (which releases it)
    computes the next. The thread imports Great Expectations first (slow), also while DuckDB works.
    Its results come back in the suites' order; an error in the thread is raised by `results`."""

    def __init__(self, suites: Sequence[Suite], data_docs_dir: Path | None, *, run_name: str) -> None:
        import pandas  # noqa: F401  (the frames need it at once: imported here, so the two threads never race for it)

        self._suites = list(suites)
        self._docs = data_docs_dir
        self._run_name = run_name
        self._frames: queue.Queue[tuple[str, pd.DataFrame] | None] = queue.Queue()
        self._results: dict[int, list[CheckResult]] = {}
        self._context: AbstractDataContext | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="Great Expectations", daemon=True)
        self._thread.start()

    def check(self, frame: str, data: pd.DataFrame) -> None:
        self._frames.put((frame, data))

    def results(self) -> list[CheckResult]:
        """Every suite's results, once the thread has checked every frame handed over."""
        self.close()
        if self._error is not None:
            raise self._error
        missing = [s.name for i, s in enumerate(self._suites) if i not in self._results]
        if missing:
            raise RuntimeError(f"no frame was handed over for the suites {missing}")
        return [result for i in range(len(self._suites)) for result in self._results[i]]

    def build_data_docs(self) -> None:
        if self._docs is not None and self._context is not None:
            self._context.build_data_docs(site_names=[DATA_DOCS_SITE])

    def close(self) -> None:
        """No more frames: wait for the thread to check those handed over."""
        if self._thread.is_alive():
            self._frames.put(None)
            self._thread.join()

    def _work(self) -> None:
        try:
            self._context = _gx_context(self._docs)
            _freeze_imported()
            while (item := self._frames.get()) is not None:
                frame, data = item
                for i, suite in enumerate(self._suites):
                    if suite.frame == frame:
                        self._results[i] = _run_suite(self._context, suite, data, run_name=self._run_name)
        except BaseException as exc:  # handed to the caller by results()
            self._error = exc
            while self._frames.get() is not None:  # let the caller hand over the rest and finish
                pass


_FROZEN = threading.Event()


def _freeze_imported() -> None:
    """Once per process, once Great Expectations is imported: move every object the process holds
    (about 300,000, nearly all of them the imported modules', which live as long as it does) out of
    the garbage collector's reach. The suites make many objects; without this, the full collection
    they set off scanned all of those again (0.16 s of a 1.4 s nightly validation)."""
    if not _FROZEN.is_set():
        _FROZEN.set()
        gc.freeze()


def load_suites(directory: Path | None = None) -> list[Suite]:
    """Every `*.json` suite in `directory` (default EXPECTATIONS_DIR), by file name."""
    directory = EXPECTATIONS_DIR if directory is None else directory
    return [read_suite(path) for path in sorted(directory.glob("*.json"))]


def read_suite(path: Path) -> Suite:
    """One suite file, checked: errors name the file and what was expected."""
    try:
        definition = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON suite: {exc}") from None
    if not isinstance(definition, dict):
        raise ConfigError(f"{path}: a suite is a JSON object with 'name', 'meta', 'expectations'")
    if definition.get("name") != path.stem:
        raise ConfigError(f"{path}: 'name' must be {path.stem!r}, the file's name")
    meta = definition.get("meta") or {}
    if meta.get("frame") not in FRAMES:
        raise ConfigError(f"{path}: meta.frame must be one of {sorted(FRAMES)}")
    for number, expectation in enumerate(definition.get("expectations") or [], start=1):
        if expectation.get("severity") not in SEVERITIES:
            raise ConfigError(f"{path}: expectation {number}: 'severity' must be one of {sorted(SEVERITIES)}")
    return Suite(
        name=path.stem,
        path=path,
        frame=meta["frame"],
        index_columns=tuple(meta.get("index_columns") or ()),
        definition=definition,
    )


def load_frame(
    con: duckdb.DuckDBPyConnection,
    frame: str,
    *,
    period: str,
    suites: Sequence[Suite] = (),
    restricted: Path | None = None,
    scope: Scope = EVERYTHING,
    kept: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The frame a suite runs on, computed in DuckDB for one period, as pandas; the ledger rows'
    sample also keeps every row a fail rule of `suites` flags. `scope`: the days and loads checked;
    `kept`: the marts already computed for the period (pipeline.check_queries.keep_marts)."""
    suspect = suspect_sql(suites) if frame == "ledger_rows" else ("false", {})
    return frame_data(con, frame, period=period, suspect=suspect, restricted=restricted, scope=scope, kept=kept)


def suspect_sql(suites: Sequence[Suite]) -> tuple[str, dict[str, Any]]:
    """A SQL condition true for a row that a fail-severity column rule of `suites` would flag
    (not null, in set, regex, unique), with its bound values. Other rules judge the sample."""
    conditions: list[str] = ["false"]
    values: dict[str, Any] = {}
    for suite in suites:
        for expectation in suite.definition.get("expectations") or []:
            kwargs = expectation.get("kwargs") or {}
            column = kwargs.get("column")
            if SEVERITIES[expectation["severity"]] != "fail" or not isinstance(column, str) or '"' in column:
                continue
            quoted, name = f'"{column}"', f"rule_{len(values)}"
            kind = expectation.get("type")
            if kind == "expect_column_values_to_not_be_null":
                conditions.append(f"{quoted} is null")
            elif kind == "expect_column_values_to_be_in_set":
                allowed = kwargs["value_set"]
                values[name] = SUITE_PARAMETERS[allowed["$PARAMETER"]] if isinstance(allowed, dict) else allowed
                conditions.append(f"({quoted} is not null and not list_contains(${name}, {quoted}))")
            elif kind == "expect_column_values_to_match_regex":
                values[name] = kwargs["regex"]
                conditions.append(f"({quoted} is not null and not regexp_matches({quoted}::varchar, ${name}))")
            elif kind == "expect_column_values_to_be_unique":
                conditions.append(f"{quoted} in (select {quoted} from final group by {quoted} having count(*) > 1)")
    return "(" + " or ".join(conditions) + ")", values


def record_results(con: duckdb.DuckDBPyConnection, results: Sequence[CheckResult], *, period: str, run_id: str) -> None:
    """Replace this run and period's rows in meta.check_results, in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)  # checked_at, UTC
    rows = [
        {
            "run_id": run_id,
            "period": period,
            "suite": r.suite,
            "expectation": r.expectation,
            "column_name": r.column,
            "severity": r.severity,
            "success": r.success,
            "observed": r.observed,
            "checked_at": now,
        }
        for r in results
    ]
    with transaction(con):
        con.execute(DELETE_RESULTS_SQL, {"run_id": run_id, "period": period})
        if rows:
            con.executemany(INSERT_RESULT_SQL, rows)


@functools.cache  # one class per process (Great Expectations is imported on first use)
def _in_memory_context_class() -> type[EphemeralDataContext]:
    """Great Expectations' ephemeral context, less one step: it keeps its configuration in memory
    only, yet wrote the whole of it out as YAML (into memory) each time a data source, asset or
    batch definition was added, three times a suite (about 0.07 s of a validation's 8 suites)."""
    from great_expectations.data_context import EphemeralDataContext

    class _InMemoryContext(EphemeralDataContext):
        def _save_project_config(self) -> None:
            """Nothing to save: the configuration is this object's."""

    return _InMemoryContext


def _gx_context(data_docs_dir: Path | None) -> AbstractDataContext:
    """An in-memory context (nothing written but the Data Docs site, when one is asked for): an
    ephemeral one, as `gx.get_context(mode="ephemeral")` makes, that does not serialise its
    configuration each time it changes (_InMemoryContext)."""
    from great_expectations.data_context import set_context
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=True))
    context = _in_memory_context_class()(project_config=config)
    set_context(context)  # as get_context does: the validation definitions find their stores there
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        data_docs_dir = Path(data_docs_dir)
        data_docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            DATA_DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": _view("IndexPageView")},
                # SiteBuilder's own setting (merged into its defaults), missing from GX's TypedDict
                "site_section_builders": {  # type: ignore[typeddict-unknown-key]
                    "expectations": {"view": _view("PageView")},
                    "validations": {"view": _view("PageView")},
                    "profiling": "None",  # no profiling results: nothing to render
                },
            },
        )
    return context


def _view(name: str) -> dict[str, str]:
    """A Data Docs page view of pipeline.data_docs (Great Expectations' own, with a shared
    template cache)."""
    return {"module_name": "pipeline.data_docs", "class_name": name}


def _run_suite(context: AbstractDataContext, suite: Suite, frame: pd.DataFrame, *, run_name: str) -> list[CheckResult]:
    """Validate one frame against one suite; the result stays in the context for Data Docs.

    The suite runs with Great Expectations' BASIC result format (observed values, counts of
    unexpected rows), a third faster than SUMMARY. A suite with an expectation not met runs again
    with SUMMARY and the suite's index columns, which name the rows behind it; that result takes
    the first one's place (the same run id and batch: the same key in the results store)."""
    import great_expectations as gx

    source = context.data_sources.add_pandas(suite.name)
    batch = source.add_dataframe_asset(suite.frame).add_batch_definition_whole_dataframe("period")
    gx_suite = context.suites.add(_gx_suite(suite))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    run_id = gx.RunIdentifier(run_name=run_name)

    def run(result_format: dict[str, Any]) -> ExpectationSuiteValidationResult:
        return definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=dict(SUITE_PARAMETERS),
            result_format=result_format,
            run_id=run_id,
        )

    outcome = run({"result_format": "BASIC"})
    if not outcome.success:
        outcome = run({"result_format": "SUMMARY", "unexpected_index_column_names": list(suite.index_columns)})
    return _check_results(suite, [str(e.id) for e in gx_suite.expectations], outcome)


def _gx_suite(suite: Suite) -> ExpectationSuite:
    """The file as a GX suite. GX only logs an unknown expectation type and drops it: count them."""
    import great_expectations as gx

    try:
        gx_suite = gx.ExpectationSuite(**suite.definition)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{suite.path}: not a valid Great Expectations suite: {exc}") from None
    expected = len(suite.definition.get("expectations") or [])
    if len(gx_suite.expectations) != expected:
        raise ConfigError(
            f"{suite.path}: Great Expectations accepted {len(gx_suite.expectations)} of its "
            f"{expected} expectations; check each 'type' and its 'kwargs'"
        )
    return gx_suite


def _check_results(suite: Suite, order: list[str], outcome: ExpectationSuiteValidationResult) -> list[CheckResult]:
    """One CheckResult per expectation, in the suite file's order (`order`: expectation ids)."""
    configured = []
    for r in outcome.results:
        if r.expectation_config is None:  # Great Expectations sets it on every result of a suite run
            raise ConfigError(f"{suite.path}: Great Expectations returned a result without its expectation")
        configured.append((order.index(str(r.expectation_config.id)), r.expectation_config, r))
    return [
        CheckResult(
            suite=suite.name,
            expectation=config.type,
            column=config.kwargs.get("column"),
            severity=SEVERITIES[str(config.severity.value)],
            success=bool(r.success),
            observed=_observed(r.result, r.exception_info),
        )
        for _, config, r in sorted(configured, key=lambda item: item[0])
    ]


def _observed(result: Mapping[str, Any], exception_info: Mapping[str, Any] | None) -> str:
    """What Great Expectations saw, in one line: an error, an observed value, or unexpected rows."""
    error = _exception_message(exception_info)
    if error is not None:
        return f"error: {error}"
    if "observed_value" in result:
        return f"observed {_text(result['observed_value'])}"
    count, total = result.get("unexpected_count", 0), result.get("element_count", 0)
    text = f"{count} of {total} rows unexpected"
    examples = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list")
    if count and examples:
        text += ", e.g. " + "; ".join(_text(e) for e in examples[:MAX_EXAMPLES])
    return text


def _exception_message(exception_info: Mapping[str, Any] | None) -> str | None:
    """The first raised exception's message: GX nests the info per metric when several failed."""
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        infos = [exception_info]
    else:
        infos = [i for i in exception_info.values() if isinstance(i, Mapping)]
    for info in infos:
        if info.get("raised_exception"):
            return str(info.get("exception_message"))
    return None


def _text(value: Any) -> str:
    """Display form: `k=v` pairs, null for missing, exact decimals without trailing zeros."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    text = str(value)
    if DECIMAL_TEXT.match(text):
        return text.rstrip("0").rstrip(".")
    return text


def _failure_message(failed: Sequence[CheckResult], *, period: str, run_id: str) -> str:
    lines = [f"validation failed for billing period {period} (run {run_id}):"]
    lines += [
        f"  {r.suite}: {r.expectation}" + (f" on column {r.column!r}" if r.column else "") + f": {r.observed}"
        for r in failed
    ]
    return "\n".join(lines)
