"""Owned GPU servers: straight-line depreciation and maintenance per day, split by GPU-time held
that day; energy = measured power x time x PUE x tariff, split by the energy each workload drew.

Depreciation: (price - salvage) over the days of the useful life, exactly: every day gets
floor(D / N) quanta and the first D mod N days one quantum more, so the life adds up to D. On a
disposal day the remaining book value is written off and depreciation stops."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import polars as pl

from pipeline.columns import AllocationMethod
from pipeline.config import Config
from pipeline.ledger.frame import QTY, conform, empty_parts, month_days
from pipeline.ledger.gpu import held_seconds, label_workloads, with_gap
from pipeline.money import MONEY, QUANTUM, allocation_share, split_exact

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
            for subcategory, quanta in (("depreciation", depreciation_quanta(asset, day)), ("maintenance", maintenance_quanta(asset, day))):
                if quanta:
                    records.append({
                        "hostname": asset["hostname"], "charge_date": day, "subcategory": subcategory,
                        "source_amount": Decimal(quanta) * QUANTUM, "source_currency": asset["currency"],
                        "gpu_count": asset["gpu_count"], "asset_ref": f"{asset['load_id']}:{asset['row_number']}",
                    })
    schema = {"hostname": pl.String, "charge_date": pl.Date, "subcategory": pl.String, "source_amount": MONEY,
              "source_currency": pl.String, "gpu_count": pl.Int64, "asset_ref": pl.String}
    return pl.DataFrame(records, schema=schema)


def hardware_parts(assets: pl.DataFrame, samples: pl.DataFrame, config: Config, period: str) -> pl.DataFrame:
    """Depreciation and maintenance of owned servers, split per day by GPU-seconds held."""
    costs = _daily_costs(assets, period)
    if costs.is_empty():
        return empty_parts()
    held = held_seconds(samples.filter(pl.col("hostname").is_in(costs.get_column("hostname").unique().implode())), config, every="1d")
    held = held.with_columns(pl.col("bucket").dt.date().alias("charge_date")).drop("bucket")
    capacity = costs.select("hostname", "charge_date", (pl.col("gpu_count") * 86_400).alias("capacity")).unique()
    weights = with_gap(held, capacity, keys=["hostname", "charge_date"]).rename({"seconds": "w"})
    joined = costs.join(weights, on=["hostname", "charge_date"], how="inner").with_columns(
        pl.col("source_amount").alias("source_effective_amount"),
        (pl.col("w").cast(QTY) / pl.lit(3600).cast(QTY)).cast(QTY).alias("quantity"),
    )
    group = ["hostname", "charge_date", "subcategory"]
    joined = joined.with_columns(allocation_share(pl.col("w"), pl.col("w").sum().over(group)).alias("allocation_share"))
    split = split_exact(joined.lazy(), group=group, key=["model_id", "unallocated_reason"], weight="w", amounts=["source_amount", "source_effective_amount"]).collect()
    return conform(split.with_columns(
        pl.lit(period).alias("billing_period"),
        pl.lit("hardware").alias("category"),
        pl.lit("GPU-hours").alias("quantity_unit"),
        pl.lit("assets").alias("source"),
        pl.lit("owned").alias("provider"),
        pl.lit(AllocationMethod.GPU_TIME.value).alias("allocation_method"),
        (pl.col("asset_ref") + pl.lit("@") + pl.col("hostname") + pl.lit("/") + pl.col("charge_date").cast(pl.String)).alias("source_ref"),
        (pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key"),
    ))


def energy_parts(assets: pl.DataFrame, samples: pl.DataFrame, config: Config, period: str) -> pl.DataFrame:
    """Measured energy of owned servers: joules per workload per day, priced per host-day."""
    power = samples.filter(
        (pl.col("metric") == "DCGM_FI_DEV_POWER_USAGE") & pl.col("hostname").is_in(assets.get_column("hostname").implode())
    )
    if power.is_empty():
        return empty_parts()
    power = power.with_columns((pl.col("value") * pl.col("step_seconds").cast(pl.Decimal(38, 0))).cast(pl.Decimal(38, 9)).alias("joules"))
    power = power.with_columns(pl.col("ts").dt.date().alias("charge_date")).filter(pl.col("charge_date").dt.strftime("%Y-%m") == period)
    slots = label_workloads(power, config)
    parts = slots.group_by("hostname", "charge_date", "model_id", "unallocated_reason").agg(pl.col("joules").sum())
    days = parts.group_by("hostname", "charge_date").agg(pl.col("joules").sum().alias("host_joules"))
    priced = days.with_columns(
        pl.col("host_joules").map_elements(lambda j: price_energy(j, config), return_dtype=MONEY).alias("source_amount")
    )
    joined = parts.join(priced, on=["hostname", "charge_date"]).with_columns(
        # weights in millijoules: integers, exact for samples with up to 3 decimals of watts
        (pl.col("joules") * 1000).cast(pl.Int64).alias("w"),
        pl.col("source_amount").alias("source_effective_amount"),
        (pl.col("joules") / pl.lit(3_600_000).cast(pl.Decimal(38, 9))).cast(QTY).alias("quantity"),
    )
    group = ["hostname", "charge_date"]
    joined = joined.with_columns(allocation_share(pl.col("w"), pl.col("w").sum().over(group)).alias("allocation_share"))
    split = split_exact(joined.lazy(), group=group, key=["model_id", "unallocated_reason"], weight="w", amounts=["source_amount", "source_effective_amount"]).collect()
    return conform(split.with_columns(
        pl.lit(period).alias("billing_period"),
        pl.lit("operational").alias("category"),
        pl.lit("energy").alias("subcategory"),
        pl.lit(config.owned.tariff_currency).alias("source_currency"),
        pl.lit("kWh").alias("quantity_unit"),
        pl.lit("energy").alias("source"),
        pl.lit("owned").alias("provider"),
        pl.lit(AllocationMethod.ENERGY.value).alias("allocation_method"),
        (pl.lit("energy@") + pl.col("hostname") + pl.lit("/") + pl.col("charge_date").cast(pl.String)).alias("source_ref"),
        (pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key"),
    ))


def price_energy(joules: Decimal, config: Config) -> Decimal:
    """joules / 3.6e6 kWh x PUE x tariff, rounded half to even to the money quantum."""
    with localcontext() as ctx:
        ctx.prec = 80
        cost = joules / Decimal(3_600_000) * config.owned.pue * config.owned.tariff_per_kwh
        return cost.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)

