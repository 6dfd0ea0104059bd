"""Billing rows -> ledger parts. Allocation, in order:

1. A commitment purchase (ChargeCategory Purchase with a CommitmentDiscountId) is billed cost the
   amortised usage rows already carry as effective cost: it stays in __shared__.
2. A node of a declared GPU pool: its cost is split by GPU-time held (gpu.py); the rest __idle__.
3. A tag key from `attribution.tag_keys` naming a registered model: direct.
4. An attribution rule on account, subscription, project or resource: direct.
5. A declared shared pool (support, tax, ...): distributed by its policy.
6. Anything else: __unallocated__, with the reason.
Then a row whose charge period spans several days is spread over them by hours."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from pipeline.columns import MONEY_SCALE, AllocationMethod, Bucket
from pipeline.config import Config, GpuPool, SharedPool
from pipeline.ledger.attribution import full_match, categorise, rule_model, tag_table
from pipeline.ledger.frame import PART_SCHEMA, QTY, conform, empty_parts
from pipeline.ledger.gpu import WarehouseSamples, gpu_weights, redistribute_idle, with_gap
from pipeline.money import MONEY, WEIGHT_LIMIT, allocation_share, split_exact, to_quanta

AMOUNTS = ["source_amount", "source_effective_amount", "quantity"]


def _route(config: Config) -> pl.Expr:
    chain = pl.when(
        (pl.col("ChargeCategory") == "Purchase") & pl.col("CommitmentDiscountId").is_not_null()
    ).then(pl.lit("commitment"))
    chain = chain.when(pl.col("_pool").is_not_null()).then(pl.lit("gpu_pool"))
    chain = chain.when(pl.col("_tag_model").is_not_null() | pl.col("_rule_model").is_not_null()).then(pl.lit("direct"))
    chain = chain.when(pl.col("_shared").is_not_null()).then(pl.lit("shared"))
    return chain.otherwise(pl.lit("unallocated"))


def _pool_expr(config: Config) -> tuple[pl.Expr, pl.Expr]:
    name, gpus = None, None
    for pool in config.gpu_pools:
        hit = full_match("ResourceName", pool.node_pattern)
        if pool.resource_id_pattern is not None:
            hit = hit | full_match("ResourceId", pool.resource_id_pattern)
        name = pl.when(hit).then(pl.lit(pool.name)) if name is None else name.when(hit).then(pl.lit(pool.name))
        gpus = pl.when(hit).then(pl.lit(pool.gpus_per_node)) if gpus is None else gpus.when(hit).then(pl.lit(pool.gpus_per_node))
    if name is None:
        return pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.Int64)
    return name.otherwise(None), gpus.otherwise(None).cast(pl.Int64)


def _shared_match(pool: SharedPool) -> pl.Expr:
    conditions = []
    for pattern, column in ((pool.charge_category, "ChargeCategory"), (pool.service_name, "ServiceName"), (pool.service_category, "ServiceCategory")):
        if pattern is not None:
            conditions.append(full_match(column, pattern))
    return pl.all_horizontal(conditions)


def _shared_expr(config: Config) -> pl.Expr:
    chain = None
    for pool in config.shared_pools:
        hit = _shared_match(pool)
        chain = pl.when(hit).then(pl.lit(pool.name)) if chain is None else chain.when(hit).then(pl.lit(pool.name))
    return chain.otherwise(None) if chain is not None else pl.lit(None, dtype=pl.String)


def prepare(rows: pl.DataFrame, config: Config, rules: tuple[dict[str, str], ...]) -> pl.DataFrame:
    """Billing rows with category, subcategory, route and base ledger columns."""
    rows = rows.join(tag_table(rows.get_column("Tags"), config, rules), on="Tags", how="left", nulls_equal=True)
    rows = categorise(rows, rules)
    pool_name, pool_gpus = _pool_expr(config)
    rows = rows.with_columns(
        pool_name.alias("_pool"), pool_gpus.alias("_gpus"), rule_model(config).alias("_rule_model"), _shared_expr(config).alias("_shared")
    ).with_columns(_route(config).alias("_route"))
    return rows.with_columns(
        pl.col("BilledCost").alias("source_amount"),
        pl.col("EffectiveCost").alias("source_effective_amount"),
        pl.col("BillingCurrency").alias("source_currency"),
        pl.col("ConsumedQuantity").cast(QTY).alias("quantity"),
        pl.col("ConsumedUnit").alias("quantity_unit"),
        pl.lit("billing").alias("source"),
        pl.col("ProviderName").alias("provider"),
        pl.col("x_BillingPeriod").alias("billing_period"),
        (pl.col("load_id") + pl.lit(":") + pl.col("row_number").cast(pl.String)).alias("source_ref"),
        pl.lit("").alias("split_key"),
    )


def _direct(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.coalesce("_tag_model", "_rule_model").alias("model_id"),
        pl.lit(AllocationMethod.DIRECT.value).alias("allocation_method"),
        pl.lit(1).cast(MONEY).alias("allocation_share"),
        pl.lit(None, dtype=pl.String).alias("unallocated_reason"),
    )


def _unallocated(rows: pl.DataFrame) -> pl.DataFrame:
    reason = (
        pl.when(pl.col("_tag_unknown").is_not_null()).then(pl.lit("unregistered_model:") + pl.col("_tag_unknown"))
        .otherwise(pl.lit("no_matching_rule"))
    )
    return rows.with_columns(
        pl.lit(Bucket.UNALLOCATED.value).alias("model_id"),
        pl.lit(AllocationMethod.UNALLOCATED.value).alias("allocation_method"),
        pl.lit(1).cast(MONEY).alias("allocation_share"),
        reason.alias("unallocated_reason"),
    )


def _commitment(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.lit(Bucket.SHARED.value).alias("model_id"),
        pl.lit("commitment_purchase").alias("subcategory"),
        pl.lit(AllocationMethod.SHARED_POOL.value).alias("allocation_method"),
        pl.lit(1).cast(MONEY).alias("allocation_share"),
        pl.lit(None, dtype=pl.String).alias("unallocated_reason"),
    )


def _split(rows: pl.DataFrame, weights: pl.DataFrame, *, method: str) -> pl.DataFrame:
    """Split rows (keyed by source_ref) over weights (source_ref, model_id, unallocated_reason, w).
    Only the columns a part keeps go through the join: a row becomes one part per weight."""
    needed = [c for c in (*PART_SCHEMA, "ChargePeriodStart", "ChargePeriodEnd", *AMOUNTS) if c in rows.columns and c not in ("model_id", "unallocated_reason")]
    joined = rows.select(list(dict.fromkeys(needed))).join(weights, on="source_ref", how="inner")
    total = pl.col("w").sum().over("source_ref")
    joined = joined.with_columns(
        allocation_share(pl.col("w"), total).alias("allocation_share"),
        pl.lit(method).alias("allocation_method"),
        (pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key"),
    )
    return split_exact(joined.lazy(), group=["source_ref"], key=["model_id", "unallocated_reason"], weight="w", amounts=AMOUNTS).collect()


def node_host(pool: GpuPool) -> pl.Expr:
    """A pool node's telemetry host: its ResourceName when that matches the node pattern, else the
    instance id (the last `/` part of its ResourceId)."""
    return pl.when(full_match("ResourceName", pool.node_pattern)).then(pl.col("ResourceName")).otherwise(
        pl.col("ResourceId").str.split("/").list.last()
    )


def node_samples(samples: pl.DataFrame, hosts: pl.Series) -> pl.DataFrame:
    """The samples of these hosts: hostname equal, or its first DNS label equal (an instance id
    `i-0abc` is the node `i-0abc.ec2.internal`); hostname becomes the host it matched."""
    short = pl.col("hostname").str.split(".").list.first()
    matched = samples.filter(pl.col("hostname").is_in(hosts.implode()) | short.is_in(hosts.implode()))
    return matched.with_columns(pl.when(pl.col("hostname").is_in(hosts.implode())).then(pl.col("hostname")).otherwise(short).alias("hostname"))


def _gpu_pool(rows: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config) -> pl.DataFrame:
    """Split each node row by its pool's policy over the GPU time in its charge period (hour
    buckets): held, idle, unmapped and telemetry_gap (gpu.py). `samples` is a frame, or the
    period's samples where they lie in the warehouse (only the pool's hosts are read)."""
    if rows.is_empty():
        return rows
    out = []
    for pool in config.gpu_pools:
        pool_rows = rows.filter(pl.col("_pool") == pool.name)
        if pool_rows.is_empty():
            continue
        hours = pool_rows.select(
            "source_ref", node_host(pool).alias("hostname"),
            pl.datetime_ranges(pl.col("ChargePeriodStart").dt.truncate("1h"), pl.col("ChargePeriodEnd") - pl.duration(microseconds=1), "1h").alias("bucket"),
        ).explode("bucket")
        hosts = hours.get_column("hostname").unique()
        if isinstance(samples, WarehouseSamples):
            pool_samples = samples.of_hosts(hosts.drop_nulls().sort().to_list())
        else:
            pool_samples = node_samples(samples, hosts)
        held = gpu_weights(pool_samples, config, pool, every="1h")
        weights = hours.join(held.frame, on=["hostname", "bucket"], how="inner").group_by("source_ref", "model_id", "unallocated_reason").agg(
            pl.col("w").sum(), pl.col("gpu_units").sum()
        )
        capacity = pool_rows.select("source_ref", ((pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")).dt.total_milliseconds() * pl.col("_gpus")).alias("capacity"))
        weights = with_gap(held, weights, capacity, keys=["source_ref"])
        method = AllocationMethod.GPU_UTILISATION if pool.policy == "utilisation" else AllocationMethod.GPU_TIME
        split = _split(pool_rows.with_columns(pl.lit("gpu_compute").alias("subcategory")), weights, method=method.value)
        split = split.with_columns(held.gpu_hours(pl.col("gpu_units")).alias("quantity"), pl.lit("GPU-hours").alias("quantity_unit"))
        if pool.idle == "redistribute":
            split = redistribute_idle(split, group=["source_ref"], amounts=["source_amount", "source_effective_amount"])
            split = split.with_columns(
                pl.when(pl.col("unallocated_reason_note").is_not_null()).then(pl.lit(0).cast(QTY)).otherwise(pl.col("quantity")).alias("quantity"),
                pl.when(pl.col("unallocated_reason_note").is_not_null()).then(pl.col("split_key") + pl.lit("|idle_redistributed")).otherwise(pl.col("split_key")).alias("split_key"),
            ).drop("unallocated_reason_note")
        out.append(split)
    return pl.concat(out, how="diagonal_relaxed") if out else rows.clear()


def _shared(rows: pl.DataFrame, model_cost: pl.DataFrame, config: Config) -> list[pl.DataFrame]:
    """Distribute shared-pool rows by each pool's policy (`model_cost`: effective cost per
    model of the direct and GPU-pool parts, in any number of rows per model)."""
    parts = []
    registered = config.model_ids
    direct_cost = _cent_weights(model_cost.filter(pl.col("model_id").is_in(registered)).group_by("model_id").agg(pl.col("cost").sum()))
    for pool in config.shared_pools:
        pool_rows = rows.filter(pl.col("_shared") == pool.name)
        if pool_rows.is_empty():
            continue
        if pool.policy == "keep" or not registered:
            parts.append(pool_rows.with_columns(
                pl.lit(Bucket.SHARED.value).alias("model_id"), pl.lit(None, dtype=pl.String).alias("unallocated_reason"),
                pl.lit(AllocationMethod.SHARED_POOL.value).alias("allocation_method"), pl.lit(1).cast(MONEY).alias("allocation_share"),
            ))
            continue
        if pool.policy == "even":
            w = pl.DataFrame({"model_id": registered, "w": [1] * len(registered)})
        elif pool.policy == "fixed":
            w = pl.DataFrame({"model_id": list(pool.weights), "w": list(pool.weights.values())})
        else:
            w = direct_cost
        w = w.filter(pl.col("w") > 0).with_columns(pl.lit(None, dtype=pl.String).alias("unallocated_reason"))
        if w.is_empty():
            w = pl.DataFrame({"model_id": [Bucket.SHARED.value], "w": [1], "unallocated_reason": [None]}, schema_overrides={"unallocated_reason": pl.String})
        weights = pool_rows.select("source_ref").join(w, how="cross")
        parts.append(_split(pool_rows, weights, method=AllocationMethod.SHARED_POOL.value))
    return parts


def _cent_weights(costs: pl.DataFrame) -> pl.DataFrame:
    """Each model's cost in whole cents as its weight; in coarser units (tenths of a unit, ...)
    when the positive weights would total WEIGHT_LIMIT or more (costs beyond 1e17), so that a
    split's products stay within 128 bits (see pipeline.money)."""
    weights = costs.select("model_id", (to_quanta(pl.col("cost")) // 10**(MONEY_SCALE - 2)).alias("w"))
    total = weights.filter(pl.col("w") > 0).get_column("w").sum() or 0
    unit = 1
    while total // unit >= WEIGHT_LIMIT:
        unit *= 10
    return weights.with_columns(pl.col("w") // unit) if unit > 1 else weights


def spread_over_days(parts: pl.DataFrame) -> pl.DataFrame:
    """A part whose charge period covers several days is split over them by seconds overlapped."""
    start, end = pl.col("ChargePeriodStart"), pl.col("ChargePeriodEnd")
    single = (end <= start) | (start.dt.date() == (end - pl.duration(microseconds=1)).dt.date())
    one_day = parts.filter(single).with_columns(start.dt.date().alias("charge_date"))
    many = parts.filter(~single)
    if many.is_empty():
        return one_day
    many = many.with_row_index("_part").with_columns(
        pl.date_ranges(start.dt.date(), (end - pl.duration(microseconds=1)).dt.date(), "1d").alias("charge_date")
    ).explode("charge_date")
    day_start = pl.col("charge_date").cast(pl.Datetime("us"))
    overlap = (pl.min_horizontal(end, day_start + pl.duration(days=1)) - pl.max_horizontal(start, day_start)).dt.total_seconds()
    many = many.with_columns(overlap.alias("_seconds"))
    spread = split_exact(many.lazy(), group=["_part"], key=["charge_date"], weight="_seconds", amounts=AMOUNTS).collect()
    return pl.concat([one_day, spread.drop("_part", "_seconds")], how="diagonal_relaxed")


DEFERRED_ROUTES = ("gpu_pool", "shared")


def routed_parts(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Prepared rows -> (the parts of rows routed on their own: direct, commitment purchase,
    unallocated; the rows whose split needs the whole period: GPU-pool nodes and shared pools).
    Each row's route and parts depend only on the row and the config, so a period's rows can be
    routed in batches of any size, and a file's parts kept for the next build."""
    parts = _finish_parts([
        _direct(rows.filter(pl.col("_route") == "direct")),
        _commitment(rows.filter(pl.col("_route") == "commitment")),
        _unallocated(rows.filter(pl.col("_route") == "unallocated")),
    ])
    return parts, rows.filter(pl.col("_route").is_in(DEFERRED_ROUTES))


SPLIT_ROWS = 20_000  # shared-pool rows split at a time: each becomes a part per model


def deferred_parts(rows: pl.DataFrame, model_cost: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config) -> Iterator[pl.DataFrame]:
    """The period's deferred rows (prepared) -> parts, a frame at a time: GPU-pool nodes split by
    telemetry, then the shared pools, SPLIT_ROWS rows at a time. `model_cost`: effective cost per
    model of the direct parts (any number of rows per model)."""
    pooled = _gpu_pool(rows.filter(pl.col("_route") == "gpu_pool"), samples, config) if not rows.is_empty() else rows
    if not pooled.is_empty():
        model_cost = pl.concat([model_cost, _model_cost(pooled)])
    yield _finish_parts([pooled])
    shared_rows = rows.filter(pl.col("_route") == "shared") if not rows.is_empty() else rows
    for start in range(0, shared_rows.height, SPLIT_ROWS):
        yield _finish_parts(_shared(shared_rows.slice(start, SPLIT_ROWS), model_cost, config))


def _model_cost(parts: pl.DataFrame) -> pl.DataFrame:
    """Effective cost per model of allocated parts (`_shared` sums the rows of a model again)."""
    if parts.is_empty():
        return pl.DataFrame(schema={"model_id": pl.String, "cost": MONEY})
    return parts.group_by("model_id").agg(pl.col("source_effective_amount").cast(MONEY).sum().alias("cost"))


def direct_cost(parts: pl.DataFrame) -> pl.DataFrame:
    """Effective cost per model of the direct parts among `parts` (the weight of the shared
    pools under the direct_cost policy)."""
    return _model_cost(parts.filter(pl.col("allocation_method") == AllocationMethod.DIRECT.value))


def _finish_parts(parts: list[pl.DataFrame]) -> pl.DataFrame:
    keep = [*PART_SCHEMA, "ChargePeriodStart", "ChargePeriodEnd"]
    frames = [p.with_columns([pl.lit(None).alias(c) for c in keep if c not in p.columns]).select(keep) for p in parts if not p.is_empty()]
    if not frames:
        return empty_parts()
    combined = pl.concat([f.with_columns([pl.col(c).cast(t) for c, t in PART_SCHEMA.items() if c != "charge_date"]) for f in frames], how="diagonal_relaxed")
    return conform(spread_over_days(combined))


def billing_parts(rows: pl.DataFrame, samples: pl.DataFrame | WarehouseSamples, config: Config, rules: tuple[dict[str, str], ...]) -> pl.DataFrame:
    """All of a period's billing rows at once (a build routes them in batches and keeps them)."""
    if rows.is_empty():
        return empty_parts()
    parts, deferred = routed_parts(prepare(rows, config, rules))
    return pl.concat([parts, *deferred_parts(deferred, direct_cost(parts), samples, config)])
