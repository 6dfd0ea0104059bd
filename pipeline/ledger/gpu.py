"""GPU-time held per workload, from telemetry: the weights that split a GPU node's cost.

A sample at ts with step s says who held that GPU during [ts, ts + s). No pod label: the GPU was
idle (__idle__). A pod no workload rule maps: __unallocated__ (unmapped_workload). Seconds of the
node's capacity with no sample at all: __unallocated__ (telemetry_gap), never guessed."""

from __future__ import annotations

import polars as pl

from pipeline.columns import Bucket
from pipeline.config import Config
from pipeline.ledger.attribution import workload_models


def label_workloads(samples: pl.DataFrame, config: Config) -> pl.DataFrame:
    """One row per GPU and sample time, with model_id (or bucket) and unallocated_reason."""
    slots = samples.unique(["hostname", "gpu", "ts", "namespace", "pod"])
    workloads = workload_models(slots.select("namespace", "pod").unique(), config)
    return slots.join(workloads, on=["namespace", "pod"], how="left", nulls_equal=True).with_columns(
        pl.when(pl.col("pod").is_null()).then(pl.lit(Bucket.IDLE.value))
        .when(pl.col("workload_model").is_null()).then(pl.lit(Bucket.UNALLOCATED.value))
        .otherwise(pl.col("workload_model")).alias("model_id"),
        pl.when(pl.col("pod").is_not_null() & pl.col("workload_model").is_null())
        .then(pl.lit("unmapped_workload:") + pl.col("namespace").fill_null("?"))
        .alias("unallocated_reason"),
    )


def held_seconds(samples: pl.DataFrame, config: Config, *, every: str) -> pl.DataFrame:
    """Seconds held per (hostname, bucket start, model_id, unallocated_reason); `every` is '1h' or '1d'."""
    return (
        label_workloads(samples, config)
        .with_columns(pl.col("ts").dt.truncate(every).alias("bucket"))
        .group_by("hostname", "bucket", "model_id", "unallocated_reason")
        .agg(pl.col("step_seconds").cast(pl.Int64).sum().alias("seconds"))
    )


def with_gap(weights: pl.DataFrame, capacity: pl.DataFrame, *, keys: list[str]) -> pl.DataFrame:
    """Add a telemetry_gap part per key group: capacity seconds minus seconds seen (never < 0)."""
    seen = weights.group_by(keys).agg(pl.col("seconds").sum().alias("_seen"))
    gaps = (
        capacity.join(seen, on=keys, how="left")
        .with_columns((pl.col("capacity") - pl.col("_seen").fill_null(0)).clip(lower_bound=0).alias("seconds"))
        .filter(pl.col("seconds") > 0)
        .with_columns(pl.lit(Bucket.UNALLOCATED.value).alias("model_id"), pl.lit("telemetry_gap").alias("unallocated_reason"))
        .select(*keys, "model_id", "unallocated_reason", "seconds")
    )
    return pl.concat([weights.select(*keys, "model_id", "unallocated_reason", "seconds"), gaps])
