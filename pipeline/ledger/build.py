"""One billing period's ledger, built set-based inside the warehouse and kept between runs.

The period's candidate (ledger.cost_ledger_candidate) is the kept result: a build changes only the
rows its new inputs change, in one transaction, by the queries in sql/ledger/passes/ (DuckDB SQL
over staging, the config tables (pipeline.ledger.config_tables) and temporary tables of the
build's connection):

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
   people, in Polars) replace their rows.
5. Every new part is spread over the days it covers (billing_days), converted at the day's FX
   rate and keyed (ledger_rows); kept rows whose rate was restated are converted again
   (fx_restated); every row takes the run's id.

A different recipe (config, category rules or allocation code) starts the period from nothing.
Money is exact throughout: see sql/ledger/passes/macros.sql and pipeline/money.py."""

from __future__ import annotations

import hashlib
import logging
import os
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipeline import __version__, warehouse
from pipeline.columns import LEDGER_COLUMNS
from pipeline.config import Config
from pipeline.errors import CostLedgerError
from pipeline.ledger.attribution import RULES_FILE, category_rules, normalise_tags
from pipeline.ledger.config_tables import write_config_tables
from pipeline.ledger.frame import PASSES, empty_parts, month_days, query
from pipeline.ledger.gpu import WarehouseSamples, held_key, kept_held, policies
from pipeline.ledger.owned import energy_parts, hardware_parts
from pipeline.ledger.people import charge_parts, delay_parts, labor_parts, licence_parts
from pipeline.money import INT128_MAX

# DuckDB's working memory while it builds (unless COSTLEDGER_DUCKDB_MEMORY says otherwise): beyond
# it, joins, windows and sorts spill to disk, so the build's process stays under 2 GiB at any scale
BUILD_MEMORY = "1.5GB"
log = logging.getLogger(__name__)
PROFILE: list[tuple[str, float]] = []  # (step, seconds) of the last build, for the benchmark's profile
COUNTS: dict[str, int] = {}  # what the last build routed, split and wrote (rows)


@contextmanager
def _step(name: str) -> Iterator[None]:
    began = clock.perf_counter()
    try:
        yield
    finally:
        PROFILE.append((name, clock.perf_counter() - began))
        log.info("build step %s: %.2f s", name, PROFILE[-1][1])


def _read(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> pl.DataFrame:
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


def sample_window(con: duckdb.DuckDBPyConnection, period: str) -> tuple[datetime, datetime]:
    """The telemetry a period needs: its days, widened to every billed charge period in it."""
    days = month_days(period)
    start, end = days[0], days[-1] + timedelta(days=1)
    [(first, last)] = con.execute(
        "select min(ChargePeriodStart), max(ChargePeriodEnd) from staging.billing where x_BillingPeriod = ?", [period]
    ).fetchall()
    if first is not None:
        start, end = min(first.date(), start), max(last.date() + timedelta(days=1), end)
    return datetime.combine(start, time()), datetime.combine(end, time())


def other_parts(con: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date) -> pl.DataFrame:
    """The period's parts that do not come from a bill (owned servers, labor, charges, licences,
    delay), in source currencies: a few rows per day and model, made in Polars."""
    samples = WarehouseSamples(con, *sample_window(con, period))
    assets = _read(con, "select * from staging.assets", [])
    frames = [
        hardware_parts(assets, samples, config, period),
        energy_parts(assets, samples, config, period),
        labor_parts(_read(con, "select * from staging.labor where month = ?", [period]), config, period),
        charge_parts(_read(con, "select * from staging.charges", []), config, period),
        licence_parts(_read(con, "select * from staging.licences", []), config, period),
        delay_parts(_read(con, "select * from staging.milestones", []), config, period, as_of=as_of),
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


def _origin(source: str | None, source_ref: str | None, files: dict[str, str]) -> str:
    """`inbox/<path>, row N` for a source_ref `load_id:row_number`, else the source and its ref."""
    load_id, _, row = (source_ref or "").partition(":")
    if load_id in files:
        return f"inbox/{files[load_id]}, row {row}"
    return f"{source} {source_ref}"


def check_rates(con: duckdb.DuckDBPyConnection, config: Config, period: str) -> None:
    """A missing FX rate is an error, never 1.0: it names the first day, currency and the file
    and row that needed it (billing rows first, then _other_parts)."""
    found = con.execute(query("fx_missing"), {"period": period, "currency": config.reporting_currency}).fetchall()
    if not found:
        return
    currency, day, source, source_ref, days = found[0]
    files = dict(con.execute("select load_id, path from meta.loads").fetchall())
    raise CostLedgerError(
        f"no FX rate from {currency} to {config.reporting_currency} on {day} "
        f"(first needed by {_origin(source, source_ref, files)}; {days} currency-days missing); "
        + _fx_options(con, currency, config.reporting_currency, period)
    )


def _fx_options(con: duckdb.DuckDBPyConnection, missing: str, currency: str, period: str) -> str:
    """What to do about a missing rate: add rates, or, when every billing amount of the period is
    in the one currency that has no rate at all, report in that currency instead."""
    billed_in = {
        row[0]
        for row in con.execute(
            "select distinct BillingCurrency from staging.billing where x_BillingPeriod = ?", [period]
        ).fetchall()
    }
    [(rated,)] = con.execute("select count(*) from staging.fx_rates where currency = ?", [missing]).fetchall()
    if billed_in == {missing} and rated == 0:
        return (
            f"every billing amount is in {missing} and inbox/fx/ has no {missing} rates: either add daily "
            f"{missing} to {currency} rates to inbox/fx/ (columns rate_date, currency, rate), or set "
            f'reporting_currency = "{missing}" in costledger.toml to report in {missing}'
        )
    return "add them to inbox/fx/"


def check_split_bounds(con: duckdb.DuckDBPyConnection, table: str, totals: str, *, what: str) -> None:
    """Raise a clear error, before a split of `table`'s rows runs, if an amount x its weight total
    (or the total x 1e18, for the share) could leave 128 bits (DuckDB would stop with a bare
    HUGEINT overflow; pipeline.money.check_split_bounds is the same bound). `totals`: a query of
    (source_ref, total) per split."""
    found = con.execute(
        f"""
        select p.source_ref, greatest(abs(p.source_amount), abs(p.source_effective_amount),
            abs(coalesce(p.quantity, 0))), w.total
        from {table} as p inner join ({totals}) as w on p.source_ref = w.source_ref
        where w.total > ?::hugeint // 1000000000000000000
            or money_quanta(
                greatest(abs(p.source_amount), abs(p.source_effective_amount), abs(coalesce(p.quantity, 0)))
            )
                > ?::hugeint // greatest(w.total, 1)::hugeint
        limit 1""",
        [INT128_MAX, INT128_MAX],
    ).fetchall()
    if found:
        ref, amount, total = found[0]
        raise CostLedgerError(
            f"{what} {ref}: amount {amount} split by a total weight of {total} is beyond exact 128-bit arithmetic"
        )


def check_row_bounds(con: duckdb.DuckDBPyConnection) -> None:
    """The same for the billing rows being routed and the other parts: an amount x the seconds
    its charge period is spread over (split_bounds.sql)."""
    found = con.execute(query("split_bounds"), {"limit": INT128_MAX}).fetchall()
    if found:
        ref, amount, seconds = found[0]
        raise CostLedgerError(f"{ref}: amount {amount} over {seconds} s is beyond exact 128-bit arithmetic")


def _insert_parts(con: duckdb.DuckDBPyConnection, config: Config, rid: str, parts: str) -> int:
    """Spread the billing parts of the query `parts` over days, convert and key them into the
    candidate; return how many rows."""
    con.execute(f"create or replace temp view _billing_parts as {parts}")
    con.execute(f"create or replace temp view _day_parts as {query('billing_days')}")
    return _insert_rows(con, config, rid)


def _insert_rows(con: duckdb.DuckDBPyConnection, config: Config, rid: str) -> int:
    columns = ", ".join(LEDGER_COLUMNS)
    [(count,)] = con.execute(
        f"insert into ledger.cost_ledger_candidate ({columns}) select {columns} from ({query('ledger_rows')})",
        {"currency": config.reporting_currency, "run_id": rid},
    ).fetchall()
    COUNTS["candidate rows written"] = COUNTS.get("candidate rows written", 0) + count
    return count


def _start_over(con: duckdb.DuckDBPyConnection, period: str, kind: str) -> None:
    """Forget the period's kept rows when they were built under another recipe (or their record
    is gone), and whatever other recipes left anywhere."""
    built = con.execute("select recipe from ledger.candidate_builds where billing_period = ?", [period]).fetchall()
    if built != [(kind,)]:
        con.execute("delete from ledger.cost_ledger_candidate where billing_period = ?", [period])
        for table in ("billing_deferred", "billing_allocated", "shared_weights"):
            con.execute(f"delete from ledger.{table} where billing_period = ?", [period])
    for table in ("billing_deferred", "billing_allocated"):
        con.execute(f"delete from ledger.{table} where recipe <> ?", [kind])


def _file_versions(con: duckdb.DuckDBPyConnection, period: str, kind: str) -> tuple[list[str], list[str]]:
    """(billing file versions of the period routed under this recipe that are gone or lost rows
    since (a later export restated some of their accounts), those to route: not routed yet, or
    shrunk); the latter also fill _billing_loads. A period whose kept rows are of another recipe
    has all its versions to route."""
    fresh = con.execute("select recipe from ledger.candidate_builds where billing_period = ?", [period]).fetchall() != [
        (kind,)
    ]
    staged = "(select load_id, count(*) as n from staging.billing where x_BillingPeriod = ? group by load_id)"
    allocated = f"""(select a.load_id, a.rows_in = coalesce(s.n, 0) as intact
        from ledger.billing_allocated as a left join {staged} as s using (load_id)
        where a.recipe = ? and a.billing_period = ? and not ?)"""
    gone = [
        r[0]
        for r in con.execute(
            f"select load_id from {allocated} where not intact order by load_id",
            [period, kind, period, fresh],
        ).fetchall()
    ]
    new = [
        r[0]
        for r in con.execute(
            f"select load_id from {staged} where load_id not in (select load_id from {allocated} where intact) "
            "order by load_id",
            [period, period, kind, period, fresh],
        ).fetchall()
    ]
    con.execute("create or replace temp table _billing_loads (load_id varchar, billing_period varchar)")
    if new:
        con.executemany("insert into _billing_loads values (?, ?)", [(load_id, period) for load_id in new])
    return gone, new


def _route_new_files(
    con: duckdb.DuckDBPyConnection, config: Config, period: str, kind: str, rid: str, gone: list[str], new: list[str]
) -> None:
    """Route the rows of the new billing file versions (_billing_loads); drop what superseded
    versions left."""
    if gone or new:
        with _step("drop superseded and re-routed versions"):
            con.execute(
                "delete from ledger.cost_ledger_candidate where billing_period = ? and source = 'billing' "
                "and split_part(source_ref, ':', 1) in (select unnest(?::varchar[]))",
                [period, gone + new],
            )
            for table in ("billing_deferred", "billing_allocated"):
                con.execute(
                    f"delete from ledger.{table} where billing_period = ? and load_id in (select unnest(?::varchar[]))",
                    [period, gone + new],
                )
    if not new:
        return
    COUNTS["billing rows routed"] = con.execute(
        "select count(*) from staging.billing as b inner join _billing_loads as l on b.load_id = l.load_id and "
        "b.x_BillingPeriod = l.billing_period"
    ).fetchone()[0]
    with _step("billing_tag_values"):
        _tag_values(con)
    with _step("split_bounds"):
        check_row_bounds(con)
    with _step("billing_classes"):
        con.execute(f"create or replace temp table _billing_classes as {query('billing_classes')}")
        con.execute(f"create or replace temp table _billing_routes as {query('billing_class_routes')}")
        con.execute(f"create or replace temp view _routed as {query('billing_routed')}")
    with _step("billing_row_parts -> billing_days -> ledger_rows (insert)"):
        _insert_parts(con, config, rid, query("billing_row_parts"))
    with _step("billing_deferred"):
        con.execute(query("billing_deferred_rows"), {"recipe": kind})
    now = datetime.now(UTC).replace(tzinfo=None)
    with _step("billing_allocated"):
        con.execute(
            """
            insert into ledger.billing_allocated
            select ?, l.load_id, ?,
                (select count(*) from staging.billing as b where b.x_BillingPeriod = ? and b.load_id = l.load_id),
                (select count(*) from ledger.cost_ledger_candidate as c
                 where c.billing_period = ? and c.source = 'billing' and split_part(c.source_ref, ':', 1) = l.load_id),
                (select count(*) from ledger.billing_deferred as d where d.recipe = ? and d.billing_period = ? and
                    d.load_id = l.load_id),
                ?
            from _billing_loads as l""",
            [kind, period, period, period, kind, period, now],
        )


def _tag_values(con: duckdb.DuckDBPyConnection) -> None:
    """_tag_values: billing_tag_values.sql, with the few tag sets it leaves to Python
    (non-string values) read by pipeline.ledger.attribution.normalise_tags."""
    con.execute(f"create or replace temp table _tag_values as {query('billing_tag_values')}")
    odd = [r[0] for r in con.execute("select distinct tags from _tag_values where python_only").fetchall()]
    if odd:
        con.execute("delete from _tag_values where python_only")
        rows = [(tags, key, value, True) for tags in odd for key, value in normalise_tags(tags).items()]
        if rows:
            con.executemany("insert into _tag_values values (?, ?, ?, ?)", rows)


def _split_gpu_nodes(
    con: duckdb.DuckDBPyConnection, config: Config, period: str, kind: str, rid: str, new: list[str]
) -> None:
    """Bring each GPU pool's kept pass up to date and split again the node rows whose hours it
    changed, and those of new file versions."""
    if not config.gpu_pools:
        return
    window = sample_window(con, period)
    policies(con, [(pool.name, pool) for pool in config.gpu_pools])
    con.execute(
        "create or replace temp table _gpu_rows as select *, '' as source_ref from ledger.billing_deferred limit 0"
    )
    con.execute(
        "create or replace temp table _gpu_held as select null::varchar as pool, * exclude (key) from "
        "ledger.gpu_held limit 0"
    )
    for pool in config.gpu_pools:
        hosts = [
            r[0]
            for r in con.execute(
                "select distinct hostname from ledger.billing_deferred where recipe = ? and billing_period = ? and "
                "route = 'gpu_pool' "
                "and pool = ? and hostname is not null order by hostname",
                [kind, period, pool.name],
            ).fetchall()
        ]
        if not hosts:
            continue
        samples = WarehouseSamples(con, *window, hosts=tuple(hosts), keep_as=kind)
        with _step(f"gpu pool {pool.name}: kept hourly pass (gpu_held)"):
            since, changed_hosts = kept_held(samples, config, pool) or (2**62, [])
        with _step(f"gpu pool {pool.name}: rows to split, gpu_rows_held"):
            con.execute(
                """
                insert into _gpu_rows
                select *, load_id || ':' || row_number from ledger.billing_deferred
                where recipe = ? and billing_period = ? and route = 'gpu_pool' and pool = ?
                    and (load_id in (select unnest(?::varchar[]))
                         or (hostname in (select unnest(?::varchar[])) and epoch_us(ChargePeriodEnd) > ?))""",
                [kind, period, pool.name, new, changed_hosts, since],
            )
            con.execute(query("gpu_rows_held"), {"pool": pool.name, "key": held_key(samples, pool)})
    COUNTS["GPU node rows split"] = con.execute("select count(*) from _gpu_rows").fetchone()[0]
    if not COUNTS["GPU node rows split"]:
        return
    with _step("gpu: drop the rows split again"):
        con.execute(
            "delete from ledger.cost_ledger_candidate where billing_period = ? and source = 'billing' "
            "and source_ref in (select source_ref from _gpu_rows)",
            [period],
        )
    with _step("gpu_slices, gpu_weights, gpu_node_weights"):
        con.execute(f"create or replace temp table _gpu_slices as {query('gpu_slices')}")
        con.execute(f"create or replace temp table _gpu_weights as {query('gpu_weights')}")
        con.execute(f"create or replace temp table _gpu_node_weights as {query('gpu_node_weights')}")
        check_split_bounds(
            con,
            "_gpu_rows",
            "select source_ref, sum(w) as total from _gpu_node_weights group by source_ref",
            what="GPU node row",
        )
    with _step("gpu_node_parts"):
        con.execute(f"create or replace temp table _gpu_parts as {query('gpu_node_parts')}")
    with _step("gpu parts: billing_days -> ledger_rows (insert)"):
        _insert_parts(con, config, rid, "select * from _gpu_parts")


def _split_shared(
    con: duckdb.DuckDBPyConnection, config: Config, period: str, kind: str, rid: str, new: list[str]
) -> None:
    """Split the shared-pool rows of new file versions, and a pool's rows of the whole period
    again when its weights changed (a proportional pool follows the direct cost)."""
    if not config.shared_pools:
        return
    with _step("shared_pool_weights"):
        con.execute(
            f"create or replace temp table _shared_weights as {query('shared_pool_weights')}", {"period": period}
        )
        changed = [r[0] for r in con.execute(query("shared_weights_changed"), {"period": period}).fetchall()]
        con.execute(
            """
            create or replace temp table _shared_rows as
            select *, load_id || ':' || row_number as source_ref
            from ledger.billing_deferred
            where recipe = ? and billing_period = ? and route = 'shared'
                and (load_id in (select unnest(?::varchar[])) or pool in (select unnest(?::varchar[])))""",
            [kind, period, new, changed],
        )
    COUNTS["shared-pool rows split"] = con.execute("select count(*) from _shared_rows").fetchone()[0]
    if COUNTS["shared-pool rows split"]:
        with _step("shared: drop the rows split again"):
            con.execute(
                "delete from ledger.cost_ledger_candidate where billing_period = ? and source = 'billing' "
                "and source_ref in (select source_ref from _shared_rows)",
                [period],
            )
        with _step("shared_pool_parts"):
            check_split_bounds(
                con,
                "_shared_rows",
                """
                select r.source_ref, sum(w.w) as total from _shared_rows as r inner join _shared_weights as w on
                    r.pool = w.pool
                group by r.source_ref""",
                what="shared-pool row",
            )
            con.execute(f"create or replace temp table _shared_parts as {query('shared_pool_parts')}")
        with _step("shared parts: billing_days -> ledger_rows (insert)"):
            _insert_parts(con, config, rid, "select * from _shared_parts")
    con.execute("delete from ledger.shared_weights where billing_period = ?", [period])
    con.execute("insert into ledger.shared_weights select ?, pool, model_id, w from _shared_weights", [period])


def _replace_other_parts(con: duckdb.DuckDBPyConnection, config: Config, period: str, rid: str) -> None:
    con.execute("delete from ledger.cost_ledger_candidate where billing_period = ? and source <> 'billing'", [period])
    if con.execute("select count(*) from _other_parts").fetchone()[0]:
        con.execute("create or replace temp view _day_parts as select * from _other_parts")
        _insert_rows(con, config, rid)


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
    gives; only what new inputs change is written. `rules`: the category rules (by default the
    rule table, pipeline/rules/category_rules.csv)."""
    PROFILE.clear()
    COUNTS.clear()
    if not os.environ.get("COSTLEDGER_DUCKDB_MEMORY"):
        con.execute(f"set memory_limit = '{BUILD_MEMORY}'")
    rules = category_rules(RULES_FILE) if rules is None else rules
    with _step("config tables"):
        write_config_tables(con, config, rules)
        kind = recipe(config)
        rid = run_id(con, config, period, as_of)
        con.execute(query("macros"))
    with _step("owned servers, labor, charges, licences, delay (Polars)"):
        others = other_parts(con, config, period, as_of=as_of)
        con.register("_other_frame", others.to_arrow())
        try:
            con.execute("create or replace temp table _other_parts as select * from _other_frame")
        finally:
            con.unregister("_other_frame")
    gone, new = _file_versions(con, period, kind)
    with _step("fx_missing"):
        check_rates(con, config, period)
    with warehouse.transaction(con):
        with _step("start over / superseded"):
            _start_over(con, period, kind)
        _route_new_files(con, config, period, kind, rid, gone, new)
        _split_gpu_nodes(con, config, period, kind, rid, new)
        _split_shared(con, config, period, kind, rid, new)
        with _step("other parts: ledger_rows"):
            _replace_other_parts(con, config, period, rid)
        with _step("fx_restated"):
            con.execute(query("fx_restated"), {"period": period, "currency": config.reporting_currency})
        with _step("run_id"):
            con.execute(
                "update ledger.cost_ledger_candidate set run_id = ? where billing_period = ? and run_id <> ?",
                [rid, period, rid],
            )
            con.execute("delete from ledger.candidate_builds where billing_period = ?", [period])
            con.execute(
                "insert into ledger.candidate_builds values (?, ?, ?, ?)",
                [period, kind, rid, datetime.now(UTC).replace(tzinfo=None)],
            )
        with _step("commit"):
            pass
    return rid
