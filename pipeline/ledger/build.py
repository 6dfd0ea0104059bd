"""One billing period's ledger: gather the parts, convert currency, key them, write the candidate."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import duckdb
import polars as pl

from pipeline import __version__
from pipeline.columns import LEDGER_COLUMNS
from pipeline.config import Config
from pipeline.errors import CostLedgerError
from pipeline.ledger.attribution import RULES_FILE, category_rules
from pipeline.ledger.billing import billing_parts
from pipeline.ledger.config_tables import write_config_tables
from pipeline.ledger.frame import month_days
from pipeline.ledger.owned import energy_parts, hardware_parts
from pipeline.ledger.people import charge_parts, delay_parts, labor_parts, licence_parts
from pipeline.money import RATE, convert


def _read(con: duckdb.DuckDBPyConnection, query: str, params: list) -> pl.DataFrame:
    return con.sql(query, params=params or None).pl()


def gather(con: duckdb.DuckDBPyConnection, config: Config, period: str, *, as_of: date) -> pl.DataFrame:
    """Every ledger part of the period, in source currencies."""
    days = month_days(period)
    start, end = days[0], days[-1] + timedelta(days=1)
    billing = _read(con, "select * from staging.billing where x_BillingPeriod = ?", [period])
    if billing.height:
        lo = min(billing.get_column("ChargePeriodStart").min().date(), start)
        hi = max(billing.get_column("ChargePeriodEnd").max().date() + timedelta(days=1), end)
    else:
        lo, hi = start, end
    samples = _read(con, "select * from staging.gpu_samples where ts >= ? and ts < ?", [lo, hi])
    assets = _read(con, "select * from staging.assets", [])
    rules = category_rules(RULES_FILE)
    parts = [
        billing_parts(billing, samples, config, rules),
        hardware_parts(assets, samples, config, period),
        energy_parts(assets, samples, config, period),
        labor_parts(_read(con, "select * from staging.labor where month = ?", [period]), config, period),
        charge_parts(_read(con, "select * from staging.charges", []), config, period),
        licence_parts(_read(con, "select * from staging.licences", []), config, period),
        delay_parts(_read(con, "select * from staging.milestones", []), config, period, as_of=as_of),
    ]
    return pl.concat(parts)


def to_reporting_currency(parts: pl.DataFrame, rates: pl.DataFrame, currency: str, *, files: dict[str, str] | None = None) -> pl.DataFrame:
    """billed/effective cost in the reporting currency; a missing rate is an error, never 1.0.
    The error names the first amount's file and row (`files`: load_id -> inbox path)."""
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
            f"{days} currency-days missing); add them to inbox/fx/"
        )
    return joined.with_columns(
        convert(pl.col("source_amount"), pl.col("fx_rate")).alias("billed_cost"),
        convert(pl.col("source_effective_amount"), pl.col("fx_rate")).alias("effective_cost"),
        pl.lit(currency).alias("currency"),
    )


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
    """Build the period into ledger.cost_ledger_candidate (replacing it); return the run_id."""
    write_config_tables(con, config)  # the workload rules and GPU pools the marts map with
    parts = gather(con, config, period, as_of=as_of)
    rates = _read(con, "select rate_date, currency, rate from staging.fx_rates", [])
    files = dict(con.execute("select load_id, path from meta.loads").fetchall())
    ledger = to_reporting_currency(parts, rates, config.reporting_currency, files=files)
    rid = run_id(con, config, period, as_of)
    key = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in ("source", "source_ref", "charge_date", "model_id", "category", "subcategory", "unallocated_reason", "split_key")],
        separator="|",
    )
    ledger = ledger.with_columns(key.alias("lineage_key"), pl.lit(rid).alias("run_id"))
    columns = [c for c in LEDGER_COLUMNS if c != "lineage_id"]
    con.register("_parts", ledger.select(*columns, "lineage_key").to_arrow())
    try:
        con.execute("begin transaction")
        con.execute("delete from ledger.cost_ledger_candidate where billing_period = ?", [period])
        select_list = ", ".join("md5(lineage_key) as lineage_id" if c == "lineage_id" else c for c in LEDGER_COLUMNS)
        con.execute(
            f"insert into ledger.cost_ledger_candidate select {select_list} from _parts "
            "order by charge_date, model_id, category, subcategory, lineage_key"
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_parts")
    return rid
