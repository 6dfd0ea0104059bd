"""One billing period's ledger: gather the parts, convert currency, key them, write the candidate."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl

from pipeline import __version__, warehouse
from pipeline.columns import LEDGER_COLUMNS, AllocationMethod
from pipeline.config import Config
from pipeline.errors import CostLedgerError
from pipeline.ledger.attribution import RULES_FILE, category_rules
from pipeline.ledger.billing import deferred_parts, prepare, routed_parts
from pipeline.ledger.config_tables import write_config_tables
from pipeline.ledger.frame import month_days
from pipeline.ledger.gpu import WarehouseSamples
from pipeline.ledger.owned import energy_parts, hardware_parts
from pipeline.ledger.people import charge_parts, delay_parts, labor_parts, licence_parts
from pipeline.money import RATE, convert


BATCH_ROWS = 250_000  # billing rows allocated at a time: memory stays flat however big the month


def _read(con: duckdb.DuckDBPyConnection, query: str, params: list) -> pl.DataFrame:
    return con.sql(query, params=params or None).pl()


def billing_batches(con: duckdb.DuckDBPyConnection, query: str, params: list, *, rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """A query's rows, `rows` at a time, streamed from DuckDB (a cursor of its own, so the
    caller's connection stays free to write)."""
    cursor = con.cursor()
    try:
        for batch in cursor.sql(query, params=params).to_arrow_reader(rows):
            yield pl.from_arrow(batch)
    finally:
        cursor.close()


def recipe(config: Config) -> str:
    """What a billing row's parts depend on besides the row: the config, the category rules and
    the allocation code. Kept parts of another recipe are never reused."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    code = [*sorted((package / "ledger").glob("*.py")), package / "money.py", package / "columns.py"]
    for part in (config.model_dump_json(), RULES_FILE.read_text(), __version__, *[path.read_text() for path in code]):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def allocate_billing_files(con: duckdb.DuckDBPyConnection, config: Config, period: str, rules: tuple[dict[str, str], ...], kind: str) -> list[str]:
    """Route the rows of every billing file version of the period not yet allocated under this
    recipe (`kind`) into ledger.billing_parts and ledger.billing_deferred, one transaction per
    file, in batches; forget what other recipes and superseded versions left. Returns the load
    ids allocated now."""
    # a file version that lost rows since it was allocated (a later export restated some of its
    # accounts) is allocated again: its kept parts would still hold the replaced rows
    shrunk = [row[0] for row in con.execute(
        """
        select a.load_id from ledger.billing_allocated as a
        left join (select load_id, count(*) as n from staging.billing where x_BillingPeriod = ? group by load_id) as s using (load_id)
        where a.recipe = ? and a.billing_period = ? and a.rows_in <> coalesce(s.n, 0)
        """,
        [period, kind, period],
    ).fetchall()]
    with warehouse.transaction(con):
        for table in ("billing_parts", "billing_deferred", "billing_allocated"):
            con.execute(f"delete from ledger.{table} where recipe <> ?", [kind])
            con.execute(
                f"delete from ledger.{table} where billing_period = ? and load_id not in "
                "(select distinct load_id from staging.billing where x_BillingPeriod = ?)",
                [period, period],
            )
            con.execute(f"delete from ledger.{table} where billing_period = ? and list_contains(?, load_id)", [period, shrunk])
    new = [row[0] for row in con.execute(
        "select distinct load_id from staging.billing where x_BillingPeriod = ? and load_id not in "
        "(select load_id from ledger.billing_allocated where recipe = ? and billing_period = ?) order by load_id",
        [period, kind, period],
    ).fetchall()]
    for load_id in new:
        counts = [0, 0, 0]
        with warehouse.transaction(con):
            rows = "select * from staging.billing where x_BillingPeriod = ? and load_id = ?"
            for batch in billing_batches(con, rows, [period, load_id]):
                parts, deferred = routed_parts(prepare(batch, config, rules))
                tags = [pl.lit(kind).alias("recipe"), pl.lit(load_id).alias("load_id")]
                _append(con, "ledger.billing_parts", parts.with_columns(*tags))
                _append(con, "ledger.billing_deferred", deferred.select(
                    *tags, pl.lit(period).alias("billing_period"), "row_number", pl.col("_route").alias("route")
                ))
                counts = [counts[0] + batch.height, counts[1] + parts.height, counts[2] + deferred.height]
            con.execute(
                "insert into ledger.billing_allocated values (?, ?, ?, ?, ?, ?, ?)",
                [kind, load_id, period, *counts, datetime.now(timezone.utc).replace(tzinfo=None)],
            )
    return new


def _append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    con.register("_rows", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from _rows")
    finally:
        con.unregister("_rows")


def billing_period_parts(con: duckdb.DuckDBPyConnection, config: Config, period: str, samples: WarehouseSamples, kind: str) -> Iterator[pl.DataFrame]:
    """The period's billing parts: new file versions are routed and kept (the bulk of a month is
    read once, when it arrives); the kept parts stream back in batches; the few deferred rows
    (GPU-pool nodes, shared pools) are split again with the period's telemetry and direct cost."""
    rules = category_rules(RULES_FILE)
    allocate_billing_files(con, config, period, rules, kind)
    yield from billing_batches(
        con, "select * exclude (recipe, load_id) from ledger.billing_parts where recipe = ? and billing_period = ?", [kind, period]
    )
    deferred = _read(con, """
        select b.* from staging.billing as b
        semi join (select load_id, row_number from ledger.billing_deferred where recipe = ? and billing_period = ?) as d
            using (load_id, row_number)
        where b.x_BillingPeriod = ?""", [kind, period, period])
    model_cost = _read(con, """
        select model_id, sum(source_effective_amount) as cost from ledger.billing_parts
        where recipe = ? and billing_period = ? and allocation_method = ? group by model_id""",
        [kind, period, AllocationMethod.DIRECT.value])
    rows = prepare(deferred, config, rules) if deferred.height else pl.DataFrame()
    yield from deferred_parts(rows, model_cost, samples, config)


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


def parts(con: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date) -> Iterator[pl.DataFrame]:
    """Every ledger part of the period, in source currencies, a frame at a time: billing (the
    bulk of a month), owned servers, labor, charges, licences and delay. GPU telemetry is read
    in place in the warehouse."""
    kind = recipe(config)
    samples = WarehouseSamples(con, *sample_window(con, period), keep_as=kind)  # GPU pools' hourly pass is kept
    yield from billing_period_parts(con, config, period, samples, kind)
    assets = _read(con, "select * from staging.assets", [])
    yield hardware_parts(assets, samples, config, period)
    yield energy_parts(assets, samples, config, period)
    yield labor_parts(_read(con, "select * from staging.labor where month = ?", [period]), config, period)
    yield charge_parts(_read(con, "select * from staging.charges", []), config, period)
    yield licence_parts(_read(con, "select * from staging.licences", []), config, period)
    yield delay_parts(_read(con, "select * from staging.milestones", []), config, period, as_of=as_of)


def gather(con: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date) -> pl.DataFrame:
    """Every ledger part of the period in one frame (for tests and small periods)."""
    return pl.concat(list(parts(con, config, period, as_of=as_of)))


def to_reporting_currency(
    parts: pl.DataFrame, rates: pl.DataFrame, currency: str, *, files: dict[str, str] | None = None,
    billed_in: set[str] | None = None,
) -> pl.DataFrame:
    """billed/effective cost in the reporting currency; a missing rate is an error, never 1.0.
    The error names the first amount's file and row (`files`: load_id -> inbox path); when every
    billing amount is in that one currency (`billed_in`: the period's billing currencies) and no
    rate for it was delivered, it also offers reporting in that currency."""
    rates = rates.select(pl.col("rate_date").alias("charge_date"), pl.col("currency").alias("source_currency"), pl.col("rate").cast(RATE).alias("fx_rate"))
    joined = parts.join(rates, on=["charge_date", "source_currency"], how="left").with_columns(
        pl.when(pl.col("source_currency") == currency).then(pl.lit(1).cast(RATE)).otherwise(pl.col("fx_rate")).alias("fx_rate")
    )
    missing = joined.filter(pl.col("fx_rate").is_null()).select("source_currency", "charge_date", "source", "source_ref")
    if missing.height:
        first = missing.sort("charge_date", "source_currency", "source_ref", nulls_last=True).row(0, named=True)
        days = missing.select("source_currency", "charge_date").unique().height
        raise CostLedgerError(
            f"no FX rate from {first['source_currency']} to {currency} on {first['charge_date']} "
            f"(first needed by {_origin(first['source'], first['source_ref'], files or {})}; "
            f"{days} currency-days missing); "
            + _fx_options(first["source_currency"], currency, rates, billed_in)
        )
    return joined.with_columns(
        convert(pl.col("source_amount"), pl.col("fx_rate")).alias("billed_cost"),
        convert(pl.col("source_effective_amount"), pl.col("fx_rate")).alias("effective_cost"),
        pl.lit(currency).alias("currency"),
    )


def _fx_options(missing: str, currency: str, rates: pl.DataFrame, billed_in: set[str] | None) -> str:
    """What to do about a missing rate: add rates, or, when every billing amount is in the one
    currency that has no rate at all, report in that currency instead."""
    if billed_in == {missing} and rates.filter(pl.col("source_currency") == missing).is_empty():
        return (
            f"every billing amount is in {missing} and inbox/fx/ has no {missing} rates: either add daily "
            f"{missing} to {currency} rates to inbox/fx/ (columns rate_date, currency, rate), or set "
            f'reporting_currency = "{missing}" in costledger.toml to report in {missing}'
        )
    return "add them to inbox/fx/"


def _origin(source: str | None, source_ref: str | None, files: dict[str, str]) -> str:
    """`inbox/<path>, row N` for a source_ref `load_id:row_number`, else the source and its ref."""
    load_id, _, row = (source_ref or "").partition(":")
    if load_id in files:
        return f"inbox/{files[load_id]}, row {row}"
    return f"{source} {source_ref}"


def run_id(con: duckdb.DuckDBPyConnection, config: Config, period: str, as_of: date) -> str:
    """Same inputs, same config, same code: same id (so a rerun gives a byte-identical ledger)."""
    checksums = con.execute("select checksum from meta.loads where status = 'loaded' order by checksum").fetchall()
    digest = hashlib.sha256()
    for part in (period, __version__, config.model_dump_json(), RULES_FILE.read_text(), str(as_of), *[c[0] for c in checksums]):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def build_candidate(con: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date) -> str:
    """Build the period into ledger.cost_ledger_candidate (replacing it); return the run_id.

    Parts are converted and keyed a frame at a time into a temporary table; one transaction then
    replaces the period's candidate rows, sorted, so a rerun writes the same bytes."""
    write_config_tables(con, config)  # the workload rules and GPU pools the marts map with
    rates = _read(con, "select rate_date, currency, rate from staging.fx_rates", [])
    files = dict(con.execute("select load_id, path from meta.loads").fetchall())
    billed_in = {row[0] for row in con.execute(
        "select distinct BillingCurrency from staging.billing where x_BillingPeriod = ?", [period]
    ).fetchall()}
    rid = run_id(con, config, period, as_of)
    key = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in ("source", "source_ref", "charge_date", "model_id", "category", "subcategory", "unallocated_reason", "split_key")],
        separator="|",
    )
    columns = [c for c in LEDGER_COLUMNS if c != "lineage_id"]
    con.execute(f"create or replace temp table _ledger_parts as select {', '.join(columns)}, ''::varchar as lineage_key from ledger.cost_ledger_candidate limit 0")
    try:
        for frame in parts(con, config, period, as_of=as_of):
            if frame.is_empty():
                continue
            ledger = to_reporting_currency(frame, rates, config.reporting_currency, files=files, billed_in=billed_in)
            ledger = ledger.with_columns(key.alias("lineage_key"), pl.lit(rid).alias("run_id")).select(*columns, "lineage_key")
            con.register("_parts", ledger.to_arrow())
            try:
                con.execute("insert into _ledger_parts by name select * from _parts")
            finally:
                con.unregister("_parts")
        select_list = ", ".join("md5(lineage_key) as lineage_id" if c == "lineage_id" else c for c in LEDGER_COLUMNS)
        with warehouse.transaction(con):
            con.execute("delete from ledger.cost_ledger_candidate where billing_period = ?", [period])
            con.execute(
                f"insert into ledger.cost_ledger_candidate select {select_list} from _ledger_parts "
                "order by charge_date, model_id, category, subcategory, lineage_key"
            )
    finally:
        con.execute("drop table if exists _ledger_parts")
    return rid
