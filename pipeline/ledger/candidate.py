"""The writes of a ledger build into the period's candidate (ledger.cost_ledger_candidate), step by
step, each by the queries in sql/ledger/passes/ on the build's connection:

- new billing file versions are routed: rows routed on their own become candidate rows at once,
  GPU-pool nodes and shared-pool rows are kept routed in ledger.billing_deferred;
- GPU-pool node rows are split by the GPU time held (the kept hourly pass, ledger.gpu_held);
- shared-pool rows are split by their pool's weights;
- the parts that do not come from a bill (owned servers, labor, ...) replace their rows.

Every part is spread over the days it covers (billing_days), converted at the day's FX rate and
keyed (ledger_rows) as it is written."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from pipeline.columns import LEDGER_COLUMNS, ROW_HASH
from pipeline.config import Config
from pipeline.ledger.attribution import normalise_tags
from pipeline.ledger.build_checks import check_row_bounds, check_split_bounds
from pipeline.ledger.frame import query
from pipeline.ledger.gpu import policies
from pipeline.ledger.gpu_held import held_key, kept_held
from pipeline.ledger.gpu_samples import WarehouseSamples, sample_window
from pipeline.ledger.steps import COUNTS, count, step
from pipeline.warehouse import fill, first_row, insert_values

NOTHING_CHANGED = 2**62  # a first changed hour (microseconds since the epoch) beyond any sample


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The one value of a count query."""
    found = first_row(con, sql)
    if found is None:
        raise ValueError(f"no row from: {sql}")
    return int(found[0])


def day_parts(parts: str) -> str:
    """The billing parts of the query `parts` spread over the days they cover (billing_days.sql).
    Queries are put together as text, not as temporary views: DuckDB binds a view's query when it
    is made and again where it is read."""
    return fill(query("billing_days"), billing_parts=parts)


def insert_parts(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, parts: str) -> int:
    """Spread the billing parts of the query `parts` over days, convert and key them into the
    candidate; return how many rows."""
    return insert_rows(con, config, run_id, day_parts(parts))


_COLUMNS = ", ".join([*LEDGER_COLUMNS, "row_hash"])  # the candidate's, in the order _keyed_rows gives them


def _keyed_rows(config: Config, run_id: str, parts: str) -> tuple[str, dict[str, str]]:
    """The day parts of the query `parts` converted and keyed (ledger_rows.sql), as _COLUMNS; and
    the query's parameters."""
    rows = fill(query("ledger_rows"), day_parts=parts)
    select = f"select {', '.join(LEDGER_COLUMNS)}, {ROW_HASH} as row_hash from ({rows})"
    return select, {"currency": config.reporting_currency, "run_id": run_id}


def insert_rows(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, parts: str) -> int:
    """Convert and key the day parts of the query `parts` into the candidate; return how many rows."""
    select, parameters = _keyed_rows(config, run_id, parts)
    [(written,)] = con.execute(f"insert into ledger.cost_ledger_candidate ({_COLUMNS}) {select}", parameters).fetchall()
    return count("candidate rows written", written)


def route_new_files(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str,
    recipe: str,
    run_id: str,
    gone: list[str],
    new: list[str],
) -> None:
    """Route the rows of the new billing file versions (_billing_loads); drop what superseded
    versions left. Only a version routed before (in ledger.billing_allocated, written with its
    rows) has candidate rows: a new version that is not also `gone` (shrunk) has none to drop."""
    if gone or new:
        with step("drop superseded and re-routed versions"):
            if gone:
                con.execute(query("candidate_drop_versions"), {"period": period, "loads": gone})
            for table in ("billing_deferred", "billing_allocated"):
                con.execute(
                    f"delete from ledger.{table} where billing_period = ? and load_id in (select unnest(?::varchar[]))",
                    [period, gone + new],
                )
    if not new:
        return
    COUNTS["billing rows routed"] = _scalar(con, query("billing_rows_to_route"))
    with step("billing_tag_values"):
        _tag_values(con)
    with step("split_bounds"):
        check_row_bounds(con)
    with step("billing_classes"):
        con.execute(f"create or replace temp table _billing_classes as {query('billing_classes')}")
        con.execute(f"create or replace temp table _billing_routes as {query('billing_class_routes')}")
        con.execute(f"create or replace temp view _routed as {query('billing_routed')}")
    with step("billing_row_parts -> billing_days -> ledger_rows (insert)"):
        insert_parts(con, config, run_id, query("billing_row_parts"))
    with step("billing_deferred"):
        con.execute(query("billing_deferred_rows"), {"recipe": recipe})
    routed_at = datetime.now(UTC).replace(tzinfo=None)
    with step("billing_allocated"):
        con.execute(query("billing_allocated_rows"), {"recipe": recipe, "period": period, "routed_at": routed_at})


def _tag_values(con: duckdb.DuckDBPyConnection) -> None:
    """_tag_values: billing_tag_values.sql, with the few tag sets it leaves to Python
    (non-string values) read by pipeline.ledger.attribution.normalise_tags."""
    con.execute(f"create or replace temp table _tag_values as {query('billing_tag_values')}")
    odd = [r[0] for r in con.execute("select distinct tags from _tag_values where python_only").fetchall()]
    if odd:
        con.execute("delete from _tag_values where python_only")
        rows = [(tags, key, value, True) for tags in odd for key, value in normalise_tags(tags).items()]
        insert_values(con, "insert into _tag_values", rows)


def split_gpu_nodes(
    con: duckdb.DuckDBPyConnection, config: Config, period: str, recipe: str, run_id: str, new: list[str]
) -> None:
    """Bring each GPU pool's kept pass up to date and split again the node rows whose hours it
    changed, and those of new file versions."""
    if not config.gpu_pools:
        return
    window = sample_window(con, period)
    policies(con, [(pool.name, pool) for pool in config.gpu_pools])
    con.execute(query("gpu_rows_table"))
    con.execute(query("gpu_held_table"))
    for pool in config.gpu_pools:
        found = con.execute(query("gpu_pool_hosts"), {"recipe": recipe, "period": period, "pool": pool.name})
        hosts = [row[0] for row in found.fetchall()]
        if not hosts:
            continue
        samples = WarehouseSamples(con, *window, hosts=tuple(hosts), keep_as=recipe)
        with step(f"gpu pool {pool.name}: kept hourly pass (gpu_held)"):
            changed_from, changed_hosts = kept_held(samples, config, pool) or (NOTHING_CHANGED, [])
        with step(f"gpu pool {pool.name}: rows to split, gpu_rows_held"):
            con.execute(
                f"insert into _gpu_rows {query('gpu_rows_to_split')}",
                {
                    "recipe": recipe,
                    "period": period,
                    "pool": pool.name,
                    "new": new,
                    "changed_hosts": changed_hosts,
                    "changed_from": changed_from,
                },
            )
            con.execute(query("gpu_rows_held"), {"pool": pool.name, "key": held_key(samples, pool)})
    COUNTS["GPU node rows split"] = _scalar(con, "select count(*) from _gpu_rows")
    if not COUNTS["GPU node rows split"]:
        return
    with step("gpu: drop the rows split again"):
        con.execute(fill(query("candidate_drop_split_rows"), split_rows="_gpu_rows"), {"period": period})
    with step("gpu_slices, gpu_weights, gpu_node_weights"):
        con.execute(f"create or replace temp table _gpu_slices as {query('gpu_slices')}")
        con.execute(f"create or replace temp table _gpu_weights as {query('gpu_weights')}")
        con.execute(f"create or replace temp table _gpu_node_weights as {query('gpu_node_weights')}")
        check_split_bounds(con, "_gpu_rows", query("gpu_row_totals"), what="GPU node row")
    with step("gpu_node_parts"):
        con.execute(f"create or replace temp table _gpu_parts as {query('gpu_node_parts')}")
    with step("gpu parts: billing_days -> ledger_rows (insert)"):
        insert_parts(con, config, run_id, "select * from _gpu_parts")


def split_shared(
    con: duckdb.DuckDBPyConnection, config: Config, period: str, recipe: str, run_id: str, new: list[str]
) -> None:
    """Split the shared-pool rows of new file versions, and a pool's rows again where its weights
    changed: for a proportional pool weighed by day, the rows' days whose direct cost changed
    (each day of a row is split on its own); for the other pools, every row when their weights
    changed (a proportional pool weighed by the month follows the period's direct cost; a row is
    split whole, then spread over its days)."""
    if not config.shared_pools:
        return
    with step("shared_pool_weights"):
        con.execute(
            f"create or replace temp table _shared_weights as {query('shared_pool_weights')}", {"period": period}
        )
        con.execute(
            f"create or replace temp table _shared_changed as {query('shared_weights_changed')}", {"period": period}
        )
        con.execute(
            f"create or replace temp table _shared_rows as {query('shared_rows_to_split')}",
            {"recipe": recipe, "period": period, "new": new},
        )
    COUNTS["shared-pool rows split"] = _scalar(con, "select count(*) from _shared_rows")
    if COUNTS["shared-pool rows split"]:
        check_split_bounds(con, "_shared_rows", query("shared_row_totals"), what="shared-pool row")
        with step("shared_pool_days"):  # the rows of pools weighed by day, over their days
            days = day_parts(query("shared_rows_as_parts"))
            con.execute(
                f"create or replace temp table _shared_pieces as {fill(query('shared_pool_days'), days=days)}",
                {"new": new},
            )
        COUNTS["shared-pool days split"] = _scalar(con, "select count(*) from _shared_pieces")
        with step("shared: drop the rows and days split again"):
            rows = "(select source_ref from _shared_rows where not by_day)"
            con.execute(fill(query("candidate_drop_split_rows"), split_rows=rows), {"period": period})
            con.execute(query("candidate_drop_shared_days"), {"period": period})
        with step("shared_pool_parts"):
            con.execute(f"create or replace temp table _shared_parts as {query('shared_pool_parts')}")
        with step("shared parts: billing_days -> ledger_rows (insert)"):
            insert_parts(con, config, run_id, "select * from _shared_parts")
    con.execute("delete from ledger.shared_weights where billing_period = ?", [period])
    con.execute(
        "insert into ledger.shared_weights (billing_period, pool, charge_date, model_id, w) "
        "select ?, pool, weight_day, model_id, w from _shared_weights",
        [period],
    )


def replace_other_parts(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str,
    run_id: str,
    *,
    hardware_from: date | None,
    energy_from: date | None,
) -> None:
    """Replace the period's rows that do not come from a bill with the parts in _other_parts: the
    owned servers' hardware (source assets) only from `hardware_from` on, their energy (source
    energy) only from `energy_from` on (None: kept as they are).
    A row written again exactly as it is (labor, charges and licences mostly are, night after
    night) stays, with the run_id of the build that wrote it: only the rows that change are
    deleted and written."""
    select, parameters = _keyed_rows(config, run_id, "select * from _other_parts")
    con.execute(f"create or replace temp table _other_rows as {select}", parameters)
    same = ", ".join(column for column in LEDGER_COLUMNS if column != "run_id")
    bounds = {"period": period, "hardware_from": hardware_from, "energy_from": energy_from}
    con.execute(fill(query("other_rows_kept"), columns=same), bounds)
    con.execute(query("candidate_drop_other_rows"), {"period": period})
    [(written,)] = con.execute(
        f"insert into ledger.cost_ledger_candidate ({_COLUMNS}) select {_COLUMNS} "
        "from _other_rows as o where not exists "
        "(select 1 from _other_rows_kept as k where k.kept and k.lineage_id = o.lineage_id)"
    ).fetchall()
    count("candidate rows written", written)
