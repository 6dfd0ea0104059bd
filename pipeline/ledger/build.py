"""One billing period's ledger, built set-based inside the warehouse and kept between runs.

The period's candidate (ledger.cost_ledger_candidate) is the kept result: a build changes only the
rows its new inputs change, in one transaction, by the queries in sql/ledger/passes/ (DuckDB SQL
over staging, the config tables (pipeline.ledger.config_tables) and temporary tables of the
build's connection). This module runs the steps; pipeline.ledger.candidate writes them:

1. Billing file versions not yet routed under this recipe are routed (billing_tag_values,
   billing_classes: each distinct routing class once; billing_routed: the rows); rows routed on
   their own (direct, commitment purchase, unallocated) become candidate rows at once
   (billing_row_parts); GPU-pool nodes and shared-pool rows are kept routed in
   ledger.billing_deferred. Rows of superseded versions go.
2. The GPU pools' hourly pass over telemetry is brought up to date (ledger.gpu_held, per host);
   the node rows of new versions, and those whose hours the pass changed, are split again
   (gpu_slices, gpu_weights, gpu_node_parts).
3. Shared pools: rows of new versions are split; a pool's rows of the whole period are split
   again when its weights changed (proportional pools: each model's direct and GPU-pool cost).
4. Owned servers, labor, charges, licences and delay (small; pipeline.ledger.owned and
   people, in Polars) replace their rows; the owned servers' only from the first day new
   telemetry can change (pipeline.ledger.owned_kept). A build that keeps the period's candidate
   makes them in a thread, on a connection of their own, while steps 1 to 3 run (they read only
   staging and the telemetry); a build from nothing makes them first.
5. Every new part is spread over the days it covers (billing_days), converted at the day's FX
   rate and keyed (ledger_rows); kept rows whose rate was restated are converted again
   (fx_restated); every row takes the run's id.

A different recipe (config, category rules or allocation code) starts the period from nothing.
Money is exact throughout: see sql/ledger/passes/macros.sql and pipeline/money.py."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipeline import __version__, warehouse
from pipeline.config import Config
from pipeline.errors import CostLedgerError
from pipeline.ledger.attribution import RULES_FILE, category_rules
from pipeline.ledger.build_checks import check_rates, check_row_bounds
from pipeline.ledger.candidate import replace_other_parts, route_new_files, split_gpu_nodes, split_shared
from pipeline.ledger.config_tables import write_config_tables
from pipeline.ledger.frame import PASSES, empty_parts, query
from pipeline.ledger.gpu_samples import sample_window
from pipeline.ledger.owned import energy_parts, hardware_parts
from pipeline.ledger.owned_kept import OwnedDays, keep_owned_loads, owned_days
from pipeline.ledger.people import charge_parts, delay_parts, labor_parts, licence_parts
from pipeline.ledger.steps import COUNTS, PROFILE, step

__all__ = ["COUNTS", "PROFILE", "build_candidate", "other_parts", "query", "recipe", "run_id", "sample_window"]


def _read(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pl.DataFrame:
    return con.sql(sql, params=params or None).pl()


def recipe(config: Config) -> str:
    """What a period's kept rows depend on besides the inputs: the config, the category rules and
    the allocation code (Python and SQL). Kept rows of another recipe are never reused."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    code = [
        *sorted((package / "ledger").glob("*.py")),
        package / "money.py",
        package / "columns.py",
        *sorted(PASSES.glob("*.sql")),
    ]
    for part in (config.model_dump_json(), RULES_FILE.read_text(), __version__, *[path.read_text() for path in code]):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def other_parts(
    con: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date, owned: OwnedDays
) -> pl.DataFrame:
    """The period's parts that do not come from a bill (owned servers, labor, charges, licences,
    delay), in source currencies: a few rows per day and model, made in Polars. `owned`: which
    days' owned-server parts to make (owned_days)."""
    frames = [
        labor_parts(_read(con, "select * from staging.labor where month = ?", [period]), config, period),
        charge_parts(_read(con, "select * from staging.charges", []), config, period),
        licence_parts(_read(con, "select * from staging.licences", []), config, period),
        delay_parts(_read(con, "select * from staging.milestones", []), config, period, as_of=as_of),
    ]
    if owned.first_day is not None and owned.energy_day is not None:
        assets = _read(con, "select * from staging.assets", [])
        frames += [
            hardware_parts(assets, owned.samples, config, period).filter(pl.col("charge_date") >= owned.first_day),
            energy_parts(assets, owned.energy_samples(), config, period).filter(
                pl.col("charge_date") >= owned.energy_day
            ),
        ]
    return pl.concat([empty_parts(), *[f for f in frames if not f.is_empty()]])


def run_id(con: duckdb.DuckDBPyConnection, config: Config, period: str, as_of: date) -> str:
    """Same inputs, same config, same code: same id (so a rerun gives a byte-identical ledger)."""
    checksums = con.execute("select checksum from meta.loads where status = 'loaded' order by checksum").fetchall()
    digest = hashlib.sha256()
    for part in (
        period,
        __version__,
        config.model_dump_json(),
        RULES_FILE.read_text(),
        str(as_of),
        *[c[0] for c in checksums],
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _built_under(con: duckdb.DuckDBPyConnection, period: str, digest: str) -> bool:
    """Whether the period's kept rows were built under the recipe `digest` (and their record is there)."""
    built = con.execute("select recipe from ledger.candidate_builds where billing_period = ?", [period]).fetchall()
    return built == [(digest,)]


def _start_over(con: duckdb.DuckDBPyConnection, period: str, digest: str) -> None:
    """Forget the period's kept rows when they were built under another recipe (or their record
    is gone), and whatever other recipes left anywhere."""
    if not _built_under(con, period, digest):
        con.execute("delete from ledger.cost_ledger_candidate where billing_period = ?", [period])
        for table in ("billing_deferred", "billing_allocated", "shared_weights"):
            con.execute(f"delete from ledger.{table} where billing_period = ?", [period])
    for table in ("billing_deferred", "billing_allocated"):
        con.execute(f"delete from ledger.{table} where recipe <> ?", [digest])


def _file_versions(con: duckdb.DuckDBPyConnection, period: str, digest: str) -> tuple[list[str], list[str]]:
    """(billing file versions of the period routed under this recipe that are gone or lost rows
    since, those to route: not routed yet, or shrunk) (billing_versions_changed.sql); the latter
    also fill _billing_loads. A period whose kept rows are of another recipe has all its versions
    to route."""
    fresh = not _built_under(con, period, digest)
    changes = con.execute(
        query("billing_versions_changed"), {"period": period, "recipe": digest, "fresh": fresh}
    ).fetchall()
    gone = [load_id for load_id, change in changes if change == "gone"]
    new = [load_id for load_id, change in changes if change == "new"]
    con.execute("create or replace temp table _billing_loads (load_id varchar, billing_period varchar)")
    warehouse.insert_values(con, "insert into _billing_loads", [(load_id, period) for load_id in new])
    return gone, new


def build_candidate(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str,
    *,
    as_of: date,
    rules: tuple[dict[str, str], ...] | None = None,
) -> str:
    """Bring the period's kept candidate (ledger.cost_ledger_candidate) up to date with the
    inputs, in one transaction; return the run_id. The rows are the ones a build from nothing
    gives (but for run_id: a kept row keeps the run_id of the build that wrote it, and the build's
    own is recorded in ledger.candidate_builds); only what new inputs change is written. `rules`:
    the category rules (by default the rule table, pipeline/rules/category_rules.csv)."""
    PROFILE.clear()
    COUNTS.clear()
    rules = category_rules(RULES_FILE) if rules is None else rules
    with step("config tables"):
        write_config_tables(con, config, rules)
        digest = recipe(config)
        rid = run_id(con, config, period, as_of)
        con.execute(query("macros"))
    with step("telemetry days"):  # what load_versions reads, before owned_days and the pools
        warehouse.refresh_telemetry_days(con)
    every_day = not _built_under(con, period, digest)  # the period starts from nothing
    cursor = con.cursor()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="other-parts") as beside:
            made = beside.submit(_made_beside, cursor, config, period, as_of=as_of, recipe=digest, every_day=every_day)
            if every_day:  # a month of them: made first, so their memory and the routing's do not add up
                with step("owned servers, labor, charges, licences, delay (Polars)"):
                    made.result()
            _route_beside(con, config, period, digest, rid, made)
    finally:
        cursor.close()
    return rid


def _made_beside(
    cursor: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date, recipe: str, every_day: bool
) -> tuple[OwnedDays, pl.DataFrame]:
    """Which days' owned-server parts to make (owned_days) and the other parts (other_parts), on a
    connection of their own (`cursor`): in a thread, while the bill is routed beside it. They read
    staging, the telemetry and ledger.owned_loads, which the build writes only after them."""
    owned = owned_days(cursor, config, period, sample_window(cursor, period), recipe=recipe, every_day=every_day)
    return owned, other_parts(cursor, config, period, as_of=as_of, owned=owned)


def _route_beside(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str,
    digest: str,
    rid: str,
    made: Future[tuple[OwnedDays, pl.DataFrame]],
) -> None:
    """Route the bill, split the GPU pools and shared pools, and write the other parts once `made`
    (_made_beside) has them, in one transaction. The checks before any write (check_rates,
    check_row_bounds) see the bill's rows first; the other parts' are checked when they come, still
    before the transaction commits. A missing rate in the bill waits for the other parts, so the
    error counts theirs too."""
    _other_parts_table(con, empty_parts())  # not made yet
    gone, new = _file_versions(con, period, digest)
    with step("fx_missing"):
        try:
            check_rates(con, config, period)
        except CostLedgerError:
            _other_parts_table(con, made.result()[1])
            check_rates(con, config, period)
            raise
    with warehouse.transaction(con):
        with step("start over / superseded"):
            _start_over(con, period, digest)
        route_new_files(con, config, period, digest, rid, gone, new)
        split_gpu_nodes(con, config, period, digest, rid, new)
        split_shared(con, config, period, digest, rid, new)
        with step("other parts: waited for, fx_missing, split_bounds"):
            owned, others = made.result()
            _other_parts_table(con, others)
            check_rates(con, config, period, others_only=True)
            check_row_bounds(con, others_only=True)
        with step("other parts: ledger_rows"):
            replace_other_parts(con, config, period, rid, hardware_from=owned.first_day, energy_from=owned.energy_day)
            keep_owned_loads(con, period, owned)
        with step("fx_restated"):
            fx = {"period": period, "currency": config.reporting_currency}
            if con.execute(query("fx_restated_rows"), fx).fetchall()[0][0]:
                con.execute(query("fx_restated"), fx)
        with step("candidate_builds"):  # the build's run_id: its rows carry it only where it wrote them
            con.execute("delete from ledger.candidate_builds where billing_period = ?", [period])
            con.execute(
                "insert into ledger.candidate_builds values (?, ?, ?, ?)",
                [period, digest, rid, datetime.now(UTC).replace(tzinfo=None)],
            )
        with step("commit"):
            pass


def _other_parts_table(con: duckdb.DuckDBPyConnection, parts: pl.DataFrame) -> None:
    """The temporary table _other_parts on `con`: `parts`, the other parts (other_parts)."""
    con.register("_other_frame", parts.to_arrow())
    try:
        con.execute("create or replace temp table _other_parts as select * from _other_frame")
    finally:
        con.unregister("_other_frame")
