"""Owned GPU servers: straight-line depreciation and maintenance per day, split by GPU-time held
that day; energy = measured power x time x PUE x tariff, split by the energy each workload drew.

Depreciation: (price - salvage) over the days of the useful life, exactly: every day gets
floor(D / N) quanta and the first D mod N days one quantum more, so the life adds up to D. On a
disposal day the remaining book value is written off and depreciation stops."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import polars as pl

from pipeline.columns import AllocationMethod
from pipeline.config import Config
from pipeline.ledger.frame import QTY, conform, empty_parts, month_days
from pipeline.ledger.gpu import WarehouseSamples, gpu_weights, label_workloads, redistribute_idle, with_gap
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


def hardware_parts(assets: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config, period: str) -> pl.DataFrame:
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
    joined = joined.with_columns(allocation_share(pl.col("w"), pl.col("w").sum().over(group)).alias("allocation_share"))
    split = split_exact(joined.lazy(), group=group, key=["model_id", "unallocated_reason"], weight="w", amounts=["source_amount", "source_effective_amount"]).collect()
    split = split.with_columns((pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key"))
    if config.owned.idle == "redistribute":
        split = redistribute_idle(split, group=group, amounts=["source_amount", "source_effective_amount"])
        moved = pl.col("unallocated_reason_note").is_not_null()
        split = split.with_columns(
            pl.when(moved).then(pl.lit(0).cast(QTY)).otherwise(pl.col("quantity")).alias("quantity"),
            pl.when(moved).then(pl.col("split_key") + pl.lit("|idle_redistributed")).otherwise(pl.col("split_key")).alias("split_key"),
        ).drop("unallocated_reason_note")
    method = AllocationMethod.GPU_UTILISATION if config.owned.policy == "utilisation" else AllocationMethod.GPU_TIME
    return conform(split.with_columns(
        pl.lit(period).alias("billing_period"),
        pl.lit("hardware").alias("category"),
        pl.lit("GPU-hours").alias("quantity_unit"),
        pl.lit("assets").alias("source"),
        pl.lit("owned").alias("provider"),
        pl.lit(method.value).alias("allocation_method"),
        (pl.col("asset_ref") + pl.lit("@") + pl.col("hostname") + pl.lit("/") + pl.col("charge_date").cast(pl.String)).alias("source_ref"),
    ))


POWER = "DCGM_FI_DEV_POWER_USAGE"  # watts
ENERGY_COUNTER = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"  # millijoules since the driver loaded


def energy_instants(samples: pl.DataFrame | WarehouseSamples, hosts: pl.Series, config: Config) -> pl.DataFrame:
    """One row per owned host, GPU, sample time and workload there: `joules`, the energy the GPU
    drew from that time to the next (the same on each workload row), and `n`, the workloads
    sharing it. A GPU with energy-counter samples is measured by the counter: the energy is the
    increase to the next reading; a decrease is a reset (the counter restarted from zero: count
    the new value); the energy over a silence longer than the gap rule is flagged `gap`. Any other
    GPU: power x step. Series of the same GPU and time (time-sliced pods) are one reading."""
    if isinstance(samples, WarehouseSamples):
        samples = samples.of_hosts(hosts.drop_nulls().sort().to_list(), short_names=False).frame(metrics=[POWER, ENERGY_COUNTER])
    rows = samples.filter(pl.col("hostname").is_in(hosts.implode()) & pl.col("metric").is_in([POWER, ENERGY_COUNTER]))
    counted = rows.filter(pl.col("metric") == ENERGY_COUNTER).select("hostname", "gpu").unique().with_columns(pl.lit(True).alias("_counter"))
    rows = rows.join(counted, on=["hostname", "gpu"], how="left").with_columns(pl.col("_counter").fill_null(False))
    rows = rows.filter(pl.when(pl.col("_counter")).then(pl.col("metric") == ENERGY_COUNTER).otherwise(pl.col("metric") == POWER))
    keys = ["hostname", "gpu", "ts"]
    readings = rows.group_by(keys).agg(pl.col("value").max(), pl.col("step_seconds").max(), pl.col("_counter").first()).sort(keys)
    following = pl.col("value").shift(-1).over("hostname", "gpu")
    to_next = (pl.col("ts").shift(-1).over("hostname", "gpu") - pl.col("ts")).dt.total_milliseconds()
    delta_mj = pl.when(following >= pl.col("value")).then(following - pl.col("value")).otherwise(following)
    readings = readings.with_columns(
        pl.when(pl.col("_counter")).then((delta_mj * pl.lit(Decimal("0.001"))).cast(pl.Decimal(38, 9)))
        .otherwise((pl.col("value") * pl.col("step_seconds").cast(pl.Decimal(38, 0))).cast(pl.Decimal(38, 9))).alias("joules"),
        (pl.col("_counter") & (to_next > pl.col("step_seconds").cast(pl.Int64) * 1000 * config.telemetry_gap_steps)).fill_null(False).alias("gap"),
    ).filter(pl.col("joules").is_not_null()).drop("value", "_counter")
    holders = rows.select(*keys, "namespace", "pod", "container", "labels").unique()
    holders = holders.with_columns(pl.len().over(keys).alias("n"))
    out = readings.join(holders, on=keys, how="left")
    # the energy over a gap is measured but no one was seen holding the GPU: one row, no workload
    gap = out.filter(pl.col("gap")).unique(keys).with_columns(pl.lit(1, dtype=pl.UInt32).alias("n"), *[pl.lit(None, dtype=pl.String).alias(c) for c in ("namespace", "pod", "container", "labels")])
    return pl.concat([out.filter(~pl.col("gap")), gap.select(out.columns)])


def energy_parts(assets: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config, period: str) -> pl.DataFrame:
    """Measured energy of owned servers: joules per workload per day, priced per host-day."""
    energy = energy_instants(samples, assets.get_column("hostname").unique(), config)
    energy = energy.with_columns(pl.col("ts").dt.date().alias("charge_date")).filter(pl.col("charge_date").dt.strftime("%Y-%m") == period)
    if energy.is_empty():
        return empty_parts()
    slots = label_workloads(energy, config).with_columns(tariff_expr(config).alias("tariff"))
    slots = slots.with_columns(
        pl.when(pl.col("gap")).then(pl.lit("__unallocated__")).otherwise(pl.col("model_id")).alias("model_id"),
        pl.when(pl.col("gap")).then(pl.lit("telemetry_gap")).otherwise(pl.col("unallocated_reason")).alias("unallocated_reason"),
    )
    if not config.owned.tariff_bands:
        slots = slots.with_columns(pl.lit(1).alias("tariff_units"))
    else:  # time-of-use: a workload's share is the energy it drew weighed by the price of each hour
        slots = slots.with_columns((pl.col("tariff") * 1_000_000).cast(pl.Int64).alias("tariff_units"))
    # weights: millijoules x L / n (L: the least common multiple of the sharing counts, so a
    # reading shared by n workloads splits exactly), x tariff in millionths under time-of-use
    shares = math.lcm(*[int(n) for n in slots.get_column("n").unique().to_list()])
    slots = slots.with_columns(((pl.col("joules") * 1000).cast(pl.Int64) * (shares // pl.col("n").cast(pl.Int64))).alias("_mj"))
    parts = slots.group_by("hostname", "charge_date", "model_id", "unallocated_reason").agg(
        pl.col("_mj").sum().alias("mj_shares"), (pl.col("_mj") * pl.col("tariff_units")).sum().alias("w")
    )
    # priced per reading, not per workload row: a reading shared by n workloads is counted once
    slots = slots.unique(["hostname", "gpu", "ts"])
    hourly = slots.group_by("hostname", "charge_date", "tariff").agg(pl.col("joules").sum())
    priced = hourly.group_by("hostname", "charge_date").agg(pl.col("joules"), pl.col("tariff")).with_columns(
        pl.struct("joules", "tariff").map_elements(lambda r: price_energy_tou(r["joules"], r["tariff"], config), return_dtype=MONEY).alias("source_amount")
    ).drop("joules", "tariff")
    joined = parts.join(priced, on=["hostname", "charge_date"]).with_columns(
        pl.col("source_amount").alias("source_effective_amount"),
        # kWh to 9 decimals, truncated: millijoules x L / (L x 3.6e9)
        ((pl.col("mj_shares").cast(pl.Int128) * 10**9 // (shares * 3_600_000_000)).cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.000000001"), dtype=QTY)).cast(QTY).alias("quantity"),
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



def tariff_expr(config: Config) -> pl.Expr:
    """Price per kWh of each sample's hour (UTC): the first matching time-of-use band, else the flat tariff."""
    flat = pl.lit(config.owned.tariff_per_kwh).cast(pl.Decimal(38, 10))
    chain = None
    hour, weekday = pl.col("ts").dt.hour(), pl.col("ts").dt.weekday()
    for band in config.owned.tariff_bands:
        hit = (hour >= band.start_hour) & (hour < band.end_hour) & weekday.is_in(band.weekdays)
        price = pl.lit(band.tariff_per_kwh).cast(pl.Decimal(38, 10))
        chain = pl.when(hit).then(price) if chain is None else chain.when(hit).then(price)
    return chain.otherwise(flat) if chain is not None else flat


def price_energy_tou(joules: list[Decimal], tariffs: list[Decimal], config: Config) -> Decimal:
    """sum(joules_h x tariff_h) / 3.6e6 x PUE, rounded half to even once per host-day."""
    with localcontext() as ctx:
        ctx.prec = 80
        cost = sum((Decimal(j) * Decimal(t) for j, t in zip(joules, tariffs)), Decimal(0)) / Decimal(3_600_000) * config.owned.pue
        return cost.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
