"""GPU-time held per workload, from telemetry: the integer weights that split a GPU node's cost.

1-2. Intervals and holders: the pass over the samples (pipeline.ledger.gpu_pass) gives the GPU time
   each holder held, per host and bucket, as fractions of whole GPUs. Fractions are exact: every
   fraction is an integer number of 1/S, S (`slices`) the least common multiple of the
   denominators present.
3. Policy. gpu_time: weight = ms x fraction. utilisation: the holder's weight is ms x fraction x
   utilisation (GR_ENGINE_ACTIVE, else GPU_UTIL, in basis points) and the unused rest is idle (a
   slot with no utilisation sample counts as fully used).
4. Buckets. No pod: __idle__. A pod no workload rule maps: __unallocated__
   (unmapped_workload:<namespace>). Capacity the samples do not cover: __unallocated__
   (telemetry_gap), never guessed. Idle may be redistributed to the models of the same split.

For the cloud GPU pools the hourly pass is kept in ledger.gpu_held (pipeline.ledger.gpu_held) and
the build applies steps 3-4 and splits the node rows in SQL (sql/ledger/passes/gpu_slices.sql,
gpu_weights.sql, gpu_node_parts.sql); `gpu_weights` here runs the same SQL for the owned servers'
daily split and for tests. Workload rules are regular expressions matched in full by DuckDB (RE2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.columns import Bucket
from pipeline.config import Config
from pipeline.ledger.config_tables import workload_rule_rows
from pipeline.ledger.frame import QTY, query
from pipeline.ledger.gpu_pass import BUCKET_US, HELD_COLUMNS, PassPolicy, held_frames
from pipeline.ledger.gpu_samples import WORKLOAD_KEYS, Samples

UTIL_FULL = 10_000  # utilisation in basis points: fully used
POOL = "pool"  # the pool name gpu_weights gives its one policy


class PoolPolicy(PassPolicy, Protocol):
    """A pool's allocation policy (a GpuPool, or config.owned): the pass's and the idle one."""

    @property
    def idle(self) -> str: ...


@dataclass(frozen=True)
class Weights:
    """Integer weights per (keys..., model_id, unallocated_reason): `weight`, and `gpu_units` =
    GPU-milliseconds x S. One millisecond of one whole GPU weighs S x per_unit in `weight`."""

    frame: pl.DataFrame
    per_unit: int  # UTIL_FULL under the utilisation policy, else 1
    slices: int  # S

    def gpu_hours(self, units: pl.Expr) -> pl.Expr:
        """GPU-hours of `units` (GPU-milliseconds x S): units / (S x 3.6e6), to 9 decimals, truncated
        (a Decimal / Decimal at scale 0 would drop the fraction)."""
        nanohours = (units.cast(pl.Int128) * 10**9) // (self.slices * 3_600_000)
        return (nanohours.cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.000000001"), dtype=pl.Decimal(38, 9))).cast(QTY)


def gpu_weights(samples: Samples, config: Config, policy: PoolPolicy, *, every: str) -> Weights:
    """Weights per (hostname, bucket, model_id, unallocated_reason): `weight` (policy weight) and
    `gpu_units` (GPU-ms x S held). `policy` is a GpuPool or config.owned. `samples` is a frame of
    staging.gpu_samples rows, a list of Parquet files with those columns (absent optional
    columns are null; an absent step_seconds is the configured telemetry step), or
    WarehouseSamples (read in place by the warehouse connection).

    Millions of samples become a few rows per host and bucket in one pass of DuckDB over exact
    integers (aggregated by instant first); the policy (the build's own SQL, gpu_weights.sql) is
    applied to those rows in an in-memory DuckDB."""
    if every not in BUCKET_US:
        raise ValueError(f"bucket {every!r}: expected one of {sorted(BUCKET_US)}")
    frames = list(held_frames(samples, config, policy, every=every))
    held = pl.concat(frames) if frames else pl.DataFrame()
    con = duckdb.connect(config={"threads": 1})
    try:
        load_workload_rules(con, config)
        policies(con, [(POOL, policy)])
        con.register("_held_frame", held.select(HELD_COLUMNS).to_arrow() if held.height else _empty_held())
        con.execute(f"create temp table _gpu_held as {query('gpu_held_frame')}", {"pool": POOL})
        con.execute(f"create temp table _gpu_slices as {query('gpu_slices')}")
        con.execute(f"create temp table _gpu_weights as {query('gpu_weights')}")
        ((slices, per_unit),) = con.execute("select slices, per_unit from _gpu_slices").fetchall()
        frame = con.sql(query("gpu_host_weights")).pl()
    finally:
        con.close()
    return Weights(frame=frame, per_unit=int(per_unit), slices=int(slices))


def _empty_held() -> pl.DataFrame:
    """No held rows, typed (a Polars frame: a pyarrow table built in Python imports pandas)."""
    return pl.DataFrame(
        schema={
            "hostname": pl.String,
            "bucket": pl.Int64,
            **{c: pl.String for c in WORKLOAD_KEYS},
            "num": pl.Int64,
            "den": pl.Int64,
            "single": pl.Boolean,
            "ms": pl.Int64,
            "ms_util": pl.Int64,
        }
    )


def load_workload_rules(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """meta.workload_rules of `config` in a scratch connection (the warehouse has its own)."""
    con.execute("create schema if not exists meta")
    con.execute(warehouse.sql_text("meta", "workload_rules"))
    # rule_order, namespace_pattern, pod_pattern, model_id, phase
    warehouse.insert_values(con, "insert into meta.workload_rules", workload_rule_rows(config))


def policies(con: duckdb.DuckDBPyConnection, pools: Sequence[tuple[str, PoolPolicy]]) -> None:
    """_gpu_policies (gpu_policies.sql): (pool, policy, idle, mig_slices, replicas) of each (name,
    GpuPool or config.owned), a temporary table of `con`."""
    con.execute(query("gpu_policies"))
    rows = [(name, p.policy, p.idle, p.mig_slices, p.time_slicing_replicas) for name, p in pools]
    warehouse.insert_values(con, "insert into _gpu_policies", rows)


def with_gap(weights: Weights, frame: pl.DataFrame, capacity: pl.DataFrame, *, keys: list[str]) -> pl.DataFrame:
    """Add a telemetry_gap part per key group: the capacity (`capacity`, GPU-ms) the samples did
    not cover (never < 0), weighed like held time. `frame` has keys, model_id,
    unallocated_reason, weight and gpu_units (GPU-ms x S)."""
    seen = frame.group_by(keys).agg(pl.col("gpu_units").sum().alias("_seen"))
    gaps = (
        capacity.join(seen, on=keys, how="left")
        .with_columns(
            (pl.col("capacity").cast(pl.Int64) * weights.slices - pl.col("_seen").fill_null(0))
            .clip(lower_bound=0)
            .alias("gpu_units")
        )
        .filter(pl.col("gpu_units") > 0)
        .with_columns(
            pl.lit(Bucket.UNALLOCATED.value).alias("model_id"),
            pl.lit("telemetry_gap").alias("unallocated_reason"),
            (pl.col("gpu_units") * weights.per_unit).alias("weight"),
        )
        .select(*keys, "model_id", "unallocated_reason", "weight", "gpu_units")
    )
    return pl.concat(
        [frame.select(*keys, "model_id", "unallocated_reason", "weight", "gpu_units"), gaps], how="vertical_relaxed"
    )


def redistribute_idle(parts: pl.DataFrame, *, group: list[str], amounts: list[str]) -> pl.DataFrame:
    """Idle policy `redistribute`: each group's __idle__ part is split again over the registered
    models of the same group by their weight `weight` (exactly); gap and unmapped parts keep
    theirs. A group with no model keeps its idle."""
    from pipeline.money import split_exact

    models = parts.filter(~pl.col("model_id").is_in([b.value for b in Bucket]))
    idle = parts.filter(pl.col("model_id") == Bucket.IDLE.value)
    takers = (
        idle.select(*group)
        .unique()
        .join(models.select(*group, "model_id", pl.col("weight").alias("_model_weight")), on=group, how="inner")
    )
    if takers.is_empty():
        return parts
    groups = takers.select(group).unique().with_columns(pl.lit(True).alias("_take"))
    marked = parts.join(groups, on=group, how="left").with_columns(
        ((pl.col("model_id") == Bucket.IDLE.value) & pl.col("_take").fill_null(False)).alias("_take")
    )
    kept, movable = marked.filter(~pl.col("_take")).drop("_take"), marked.filter(pl.col("_take")).drop("_take")
    spread = (
        movable.drop("model_id", "weight").join(takers, on=group).with_columns(pl.col("_model_weight").alias("weight"))
    )
    spread = (
        split_exact(spread.lazy(), group=group, key=["model_id"], weight="weight", amounts=amounts)
        .collect()
        .drop("_model_weight")
    )
    spread = spread.with_columns(pl.lit("idle_redistributed").alias("unallocated_reason_note"))
    kept = kept.with_columns(pl.lit(None, dtype=pl.String).alias("unallocated_reason_note"))
    return pl.concat([kept, spread.select(kept.columns)], how="vertical_relaxed")
