"""Owned GPU servers: straight-line depreciation and maintenance per day, split by GPU-time held
that day; energy = measured power x time x PUE x tariff, split by the energy each workload drew
(the month's readings are reduced to weights per host, day and model in DuckDB:
sql/ledger/passes/energy_slots.sql and energy_weights.sql; the rest is a few rows per host-day).

Depreciation: (price - salvage) over the days of the useful life, exactly: every day gets
floor(D / N) quanta and the first D mod N days one quantum more, so the life adds up to D. On a
disposal day the remaining book value is written off and depreciation stops."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import duckdb
import polars as pl

from pipeline.columns import AllocationMethod
from pipeline.config import Config
from pipeline.ledger.frame import QTY, conform, empty_parts, month_days, query
from pipeline.ledger.gpu import gpu_weights, load_workload_rules, redistribute_idle, with_gap
from pipeline.ledger.gpu_samples import WarehouseSamples
from pipeline.money import MONEY, QUANTUM, allocation_share, split_exact
from pipeline.warehouse import insert_values

_SCALE = 10**18


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def depreciation_quanta(asset: dict, day: date) -> int:
    """Quanta of depreciation on `day` (0 outside the asset's life or after disposal)."""
    start = asset["in_service_date"]
    end = add_months(start, asset["useful_life_months"])  # exclusive
    disposal = asset.get("disposal_date")
    if day < start or day >= end or (disposal is not None and day > disposal):
        return 0
    total = int((asset["price"] - asset["salvage_value"]) * _SCALE)
    days = (end - start).days
    base, extra = divmod(total, days)
    index = (day - start).days
    if disposal is not None and day == disposal:  # write off what is left of the book value
        return total - (base * index + min(index, extra))
    return base + (1 if index < extra else 0)


def maintenance_quanta(asset: dict, day: date) -> int:
    """The month's maintenance spread over its days: the first days take the leftover quanta."""
    start = asset["in_service_date"]
    disposal = asset.get("disposal_date")
    if day < start or (disposal is not None and day > disposal):
        return 0
    days = len(month_days(day.strftime("%Y-%m")))
    base, extra = divmod(int(asset["maintenance_per_month"] * _SCALE), days)
    return base + (1 if day.day - 1 < extra else 0)


def _daily_costs(assets: pl.DataFrame, period: str) -> pl.DataFrame:
    records = []
    for asset in assets.iter_rows(named=True):
        for day in month_days(period):
            for subcategory, quanta in (
                ("depreciation", depreciation_quanta(asset, day)),
                ("maintenance", maintenance_quanta(asset, day)),
            ):
                if quanta:
                    records.append(
                        {
                            "hostname": asset["hostname"],
                            "charge_date": day,
                            "subcategory": subcategory,
                            "source_amount": Decimal(quanta) * QUANTUM,
                            "source_currency": asset["currency"],
                            "gpu_count": asset["gpu_count"],
                            "asset_ref": f"{asset['load_id']}:{asset['row_number']}",
                        }
                    )
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "hostname": pl.String,
        "charge_date": pl.Date,
        "subcategory": pl.String,
        "source_amount": MONEY,
        "source_currency": pl.String,
        "gpu_count": pl.Int64,
        "asset_ref": pl.String,
    }
    return pl.DataFrame(records, schema=schema)


def hardware_parts(
    assets: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config, period: str
) -> pl.DataFrame:
    """Depreciation and maintenance of owned servers, split per day by GPU-seconds held."""
    costs = _daily_costs(assets, period)
    if costs.is_empty():
        return empty_parts()
    hosts = costs.get_column("hostname").unique()
    if isinstance(samples, WarehouseSamples):
        samples = samples.of_hosts(hosts.sort().to_list(), short_names=False)
    else:
        samples = samples.filter(pl.col("hostname").is_in(hosts.implode()))
    held = gpu_weights(samples, config, config.owned, every="1d")
    frame = held.frame.with_columns(pl.col("bucket").dt.date().alias("charge_date")).drop("bucket")
    capacity = costs.select("hostname", "charge_date", (pl.col("gpu_count") * 86_400_000).alias("capacity")).unique()
    weights = with_gap(held, frame, capacity, keys=["hostname", "charge_date"])
    joined = costs.join(weights, on=["hostname", "charge_date"], how="inner").with_columns(
        pl.col("source_amount").alias("source_effective_amount"),
        held.gpu_hours(pl.col("gpu_units")).alias("quantity"),
    )
    group = ["hostname", "charge_date", "subcategory"]
    joined = joined.with_columns(
        allocation_share(pl.col("weight"), pl.col("weight").sum().over(group)).alias("allocation_share")
    )
    split = split_exact(
        joined.lazy(),
        group=group,
        key=["model_id", "unallocated_reason"],
        weight="weight",
        amounts=["source_amount", "source_effective_amount"],
    ).collect()
    split = split.with_columns(
        (pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key")
    )
    if config.owned.idle == "redistribute":
        split = redistribute_idle(split, group=group, amounts=["source_amount", "source_effective_amount"])
        moved = pl.col("unallocated_reason_note").is_not_null()
        split = split.with_columns(
            pl.when(moved).then(pl.lit(0).cast(QTY)).otherwise(pl.col("quantity")).alias("quantity"),
            pl.when(moved)
            .then(pl.col("split_key") + pl.lit("|idle_redistributed"))
            .otherwise(pl.col("split_key"))
            .alias("split_key"),
        ).drop("unallocated_reason_note")
    method = AllocationMethod.GPU_UTILISATION if config.owned.policy == "utilisation" else AllocationMethod.GPU_TIME
    return conform(
        split.with_columns(
            pl.lit(period).alias("billing_period"),
            pl.lit("hardware").alias("category"),
            pl.lit("GPU-hours").alias("quantity_unit"),
            pl.lit("assets").alias("source"),
            pl.lit("owned").alias("provider"),
            pl.lit(method.value).alias("allocation_method"),
            (
                pl.col("asset_ref")
                + pl.lit("@")
                + pl.col("hostname")
                + pl.lit("/")
                + pl.col("charge_date").cast(pl.String)
            ).alias("source_ref"),
        )
    )


POWER = "DCGM_FI_DEV_POWER_USAGE"  # watts
ENERGY_COUNTER = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"  # millijoules since the driver loaded


def _energy_slots(con: duckdb.DuckDBPyConnection, source: str, params: dict, config: Config, period: str) -> None:
    """_energy_slots (energy_slots.sql) on `con` from the samples of the query `source`."""
    con.execute(query("macros"))
    con.execute(f"create or replace temp table _energy_samples as {source}", params)
    con.execute(query("tariff_bands_table"))
    bands = [
        (i, b.start_hour, b.end_hour, list(b.weekdays), str(b.tariff_per_kwh))
        for i, b in enumerate(config.owned.tariff_bands, start=1)
    ]
    insert_values(con, "insert into _tariff_bands", bands, row="(?, ?, ?, ?, ?::decimal(38, 10))")
    con.execute(
        f"create or replace temp table _energy_slots as {query('energy_slots')}",
        {
            "gap_steps": config.telemetry_gap_steps,
            "period": period,
            "flat_tariff": str(config.owned.tariff_per_kwh),
        },
    )


_SAMPLE_FIELDS = ("hostname", "gpu", "ts", "step_seconds", "metric", "value", "namespace", "pod", "container", "labels")


def energy_weights(
    samples: pl.DataFrame | WarehouseSamples, hosts: list[str], config: Config, period: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The owned hosts' energy in the period, in DuckDB (energy_slots.sql, energy_weights.sql):
    (weights per host, day, model and reason: mj_shares, w, shares; joules per host, day and
    hour's price: tariff, joules). `samples` is a frame of staging.gpu_samples rows or
    WarehouseSamples (read in place)."""
    if isinstance(samples, WarehouseSamples):
        con = samples.con.cursor()
        scoped = samples.of_hosts(sorted(hosts), short_names=False)
        source, params = scoped.source(con)
        source = f"select {', '.join(_SAMPLE_FIELDS)} from {source}"
    else:
        con = duckdb.connect(config={"threads": 1})
        load_workload_rules(con, config)
        frame = samples.with_columns(
            [pl.lit(None, dtype=pl.String).alias(c) for c in _SAMPLE_FIELDS if c not in samples.columns]
        )
        con.register("_energy_frame", frame.select(_SAMPLE_FIELDS).filter(pl.col("hostname").is_in(hosts)).to_arrow())
        source, params = "select * from _energy_frame", {}
    try:
        _energy_slots(con, source, params, config, period)
        weights = con.sql(query("energy_weights"), params={"bands": bool(config.owned.tariff_bands)}).pl()
        hourly = con.sql(query("energy_hourly")).pl()
    finally:
        con.close()
    return weights, hourly


def energy_parts(
    assets: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config, period: str
) -> pl.DataFrame:
    """Measured energy of owned servers: joules per workload per day (in DuckDB), priced per host-day."""
    hosts = [h for h in assets.get_column("hostname").unique().to_list() if h is not None]
    if not hosts:
        return empty_parts()
    parts, hourly = energy_weights(samples, hosts, config, period)
    if parts.is_empty():
        return empty_parts()
    most_shares = parts.get_column("shares").max()
    if not isinstance(most_shares, int):
        raise TypeError(f"energy weights: shares {most_shares!r}, expected an integer")
    shares = most_shares
    priced = (
        hourly.group_by("hostname", "charge_date")
        .agg(pl.col("joules"), pl.col("tariff"))
        .with_columns(
            pl.struct("joules", "tariff")
            .map_elements(lambda r: price_energy_tou(r["joules"], r["tariff"], config), return_dtype=MONEY)
            .alias("source_amount")
        )
        .drop("joules", "tariff")
    )
    joined = parts.join(priced, on=["hostname", "charge_date"]).with_columns(
        pl.col("source_amount").alias("source_effective_amount"),
        # kWh to 9 decimals, truncated: millijoules x L / (L x 3.6e9)
        (
            (pl.col("mj_shares").cast(pl.Int128) * 10**9 // (shares * 3_600_000_000)).cast(pl.Decimal(38, 0))
            * pl.lit(Decimal("0.000000001"), dtype=QTY)
        )
        .cast(QTY)
        .alias("quantity"),
    )
    group = ["hostname", "charge_date"]
    joined = joined.with_columns(allocation_share(pl.col("w"), pl.col("w").sum().over(group)).alias("allocation_share"))
    split = split_exact(
        joined.lazy(),
        group=group,
        key=["model_id", "unallocated_reason"],
        weight="w",
        amounts=["source_amount", "source_effective_amount"],
    ).collect()
    return conform(
        split.with_columns(
            pl.lit(period).alias("billing_period"),
            pl.lit("operational").alias("category"),
            pl.lit("energy").alias("subcategory"),
            pl.lit(config.owned.tariff_currency).alias("source_currency"),
            pl.lit("kWh").alias("quantity_unit"),
            pl.lit("energy").alias("source"),
            pl.lit("owned").alias("provider"),
            pl.lit(AllocationMethod.ENERGY.value).alias("allocation_method"),
            (pl.lit("energy@") + pl.col("hostname") + pl.lit("/") + pl.col("charge_date").cast(pl.String)).alias(
                "source_ref"
            ),
            (pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key"),
        )
    )


def price_energy(joules: Decimal, config: Config) -> Decimal:
    """joules / 3.6e6 kWh x PUE x tariff, rounded half to even to the money quantum."""
    with localcontext() as ctx:
        ctx.prec = 80
        cost = joules / Decimal(3_600_000) * config.owned.pue * config.owned.tariff_per_kwh
        return cost.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def price_energy_tou(joules: list[Decimal], tariffs: list[Decimal], config: Config) -> Decimal:
    """sum(joules_h x tariff_h) / 3.6e6 x PUE, rounded half to even once per host-day."""
    with localcontext() as ctx:
        ctx.prec = 80
        cost = (
            sum((Decimal(j) * Decimal(t) for j, t in zip(joules, tariffs, strict=False)), Decimal(0))
            / Decimal(3_600_000)
            * config.owned.pue
        )
        return cost.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
