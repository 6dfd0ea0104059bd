"""The pass over GPU telemetry: samples to the GPU time each holder held, per host and bucket.

1. Intervals. A GPU's samples (all metrics, per host and GPU) form a timeline: a sample at ts
   holds the GPU until the next one, when that comes within `telemetry_gap_steps` x the step;
   otherwise it holds one step and the silence after it is a telemetry gap. Intervals that cross
   a bucket boundary (hour or day) are cut there. Instants are integer microseconds since the
   epoch; the time a GPU is held is counted in integer milliseconds.
2. Holders. At one instant a GPU is held by one pod, by several (time-slicing: each holds
   1/replicas, or 1/n of the n pods present when no replica count is declared), or it is cut into
   MIG slices (profile `3g.40gb` holds 3/mig_slices; n pods on one slice share it equally). No pod:
   idle. Unheld fractions (unused MIG slices, unused replicas) are idle.

Both steps are one query of DuckDB over the samples (sql/ledger/passes/gpu_pass.sql; in the
warehouse, where they lie, a group of hosts at a time; or an in-memory DuckDB over a frame or
Parquet files). The GPUs and the holders of the samples are numbered first, so that the samples'
one grouping by instant (GPU, time) and the window along each GPU's timeline are over integers;
the names join back to the rows summed per bucket. Instants held by several holders at once are
expanded (gpu_multi_holders.sql) and passed again, only when a pass finds one. The result is one row
per host, bucket, holder and fraction num/den, with the GPU-milliseconds held and those x the
holder's utilisation (basis points)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Protocol

import duckdb
import polars as pl

from pipeline.config import Config
from pipeline.ledger.frame import query
from pipeline.ledger.gpu_samples import SAMPLE_COLUMNS, WORKLOAD_KEYS, Samples, WarehouseSamples
from pipeline.warehouse import fill

BUCKET_US = {"1h": 3_600_000_000, "1d": 86_400_000_000}  # a bucket's length in microseconds
# the columns of a pass's rows: host, bucket, holder, fraction num/den held, GPU-ms (and x utilisation)
HELD_COLUMNS = ("hostname", "bucket", *WORKLOAD_KEYS, "num", "den", "single", "ms", "ms_util")
PASS_SAMPLES = 4_000_000  # samples per pass over the warehouse: hosts go in groups of about this many


class PassPolicy(Protocol):
    """What a pass needs of a pool's policy (a GpuPool, or config.owned)."""

    @property
    def policy(self) -> str: ...

    @property
    def mig_slices(self) -> int: ...

    @property
    def time_slicing_replicas(self) -> int | None: ...


def held_frames(samples: Samples, config: Config, policy: PassPolicy, *, every: str) -> Iterator[pl.DataFrame]:
    """The pass: GPU-ms (and ms x utilisation) per host, bucket, holder and fraction, a frame per
    group of hosts. Samples in the warehouse are passed a group of hosts at a time (a GPU's
    timeline never spans two groups), so memory stays flat however many GPUs a pool has; their
    GPUs and holders are numbered once, for every group."""
    if isinstance(samples, WarehouseSamples) and samples.hosts is not None and len(samples.hosts) > 1:
        return _grouped(samples, config, policy, every=every)
    return iter([held_frame(samples, config, policy, every=every)])


def _grouped(samples: WarehouseSamples, config: Config, policy: PassPolicy, *, every: str) -> Iterator[pl.DataFrame]:
    """The passes over the groups of hosts of `host_groups`, on one cursor where the samples' GPUs
    and holders are numbered, and counted for the groups, in one read of the samples."""
    con = samples.con.cursor()  # the numbers are its temp tables, read by every group's pass
    try:
        written, source_params = _reading(con, samples, config, policy)
        _number(con, written, policy, source_params)
        counts = con.execute("select hostname, sum(samples) from _pass_gpus group by hostname order by hostname")
        groups = host_groups(counts.fetchall())
        if len(groups) <= 1:
            yield held_frame(samples, config, policy, every=every, numbered=con)
            return
        for group in groups:
            yield held_frame(replace(samples, hosts=group), config, policy, every=every, numbered=con)
    finally:
        con.close()


def host_groups(counts: list[tuple[str, int]]) -> list[tuple[str, ...]]:
    """The hosts of (host, samples) `counts`, in order, in groups of about PASS_SAMPLES samples (a
    host alone when it has more)."""
    groups: list[list[str]] = [[]]
    size = 0
    for host, count in counts:
        if groups[-1] and size + count > PASS_SAMPLES:
            groups.append([])
            size = 0
        groups[-1].append(host)
        size += count
    return [tuple(group) for group in groups if group]


def sample_columns(names: list[str], default_step: int) -> str:
    """The select list a pass reads the samples by: every column of SAMPLE_COLUMNS, the instant as
    microseconds (`t`), an absent step_seconds as the configured step, other absent columns null."""
    out = []
    for column in SAMPLE_COLUMNS:
        if column == "ts":
            out.append("epoch_us(ts) as t")
        elif column == "step_seconds":
            out.append("step_seconds" if column in names else f"{int(default_step)}::integer as step_seconds")
        elif column in names:
            out.append(column)
        elif column == "value":
            out.append("null::decimal(38, 9) as value")
        else:
            out.append(f"null::varchar as {column}")
    return ", ".join(out)


def held_frame(
    samples: Samples,
    config: Config,
    policy: PassPolicy,
    *,
    every: str,
    numbered: duckdb.DuckDBPyConnection | None = None,
) -> pl.DataFrame:
    """One pass (gpu_pass.sql) over `samples`, on `numbered` when its GPUs and holders are
    numbered there already (see `_grouped`). A pass under the gpu_time policy reads no metric and
    no value: they are null, and so is every utilisation."""
    con = numbered if numbered is not None else _connect(samples)
    try:
        written, source_params = _reading(con, samples, config, policy)
        fractions = {**_fractions(policy), **source_params}
        if numbered is None:
            _number(con, written, policy, source_params)
        multi_holders = fill(query("gpu_multi_holders"), **written)
        pass_query = fill(query("gpu_pass"), **written)
        params = {"gap_steps": config.telemetry_gap_steps, "bucket_us": BUCKET_US[every], **source_params}
        # _gpu_multi empty first (its columns only): most passes find no instant with several holders
        con.execute(f"create or replace temp table _gpu_multi as {multi_holders} limit 0", fractions)
        held = con.sql(pass_query, params=params).pl()
        if not held.filter(~pl.col("single")).is_empty():  # MIG slices or time-sliced pods: expand them
            con.execute(f"create or replace temp table _gpu_multi as {multi_holders}", fractions)
            held = con.sql(pass_query, params=params).pl()
    finally:
        if numbered is None:
            con.close()
    return held.with_columns(pl.col(c).cast(pl.String) for c in WORKLOAD_KEYS)


def _connect(samples: Samples) -> duckdb.DuckDBPyConnection:
    """A cursor on the warehouse (its own temp tables, the same database), or an in-memory DuckDB."""
    if isinstance(samples, WarehouseSamples):
        return samples.con.cursor()
    memory = os.environ.get("COSTLEDGER_GPU_MEMORY", "2GB")
    return duckdb.connect(
        config={"threads": os.cpu_count() or 1, "preserve_insertion_order": False, "memory_limit": memory}
    )


def _reading(
    con: duckdb.DuckDBPyConnection, samples: Samples, config: Config, policy: PassPolicy
) -> tuple[dict[str, str], dict[str, Any]]:
    """Point `con` at the samples: the pass's written parts (the select list and the source) and
    the source's parameters."""
    source = "_samples"
    source_params: dict[str, Any] = {}
    if isinstance(samples, WarehouseSamples):
        source, source_params = samples.source(con)
        names = [
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'staging' and table_name = ?",
                ["gpu_samples"],
            ).fetchall()
        ]
    elif isinstance(samples, (pl.DataFrame, pl.LazyFrame)):
        frame = samples.lazy()
        names = frame.collect_schema().names()
        utilisation = policy.policy == "utilisation"
        needed = [c for c in SAMPLE_COLUMNS if c in names and (utilisation or c not in ("metric", "value"))]
        con.register("_samples", frame.select(needed).collect().to_arrow())
    else:
        relation = con.read_parquet([str(p) for p in samples], hive_partitioning=False)
        relation.create_view("_samples")
        names = list(relation.columns)
    if policy.policy != "utilisation":
        names = [n for n in names if n not in ("metric", "value")]  # gpu_time reads neither
    return {"sample_columns": sample_columns(names, config.telemetry_step_seconds), "samples": source}, source_params


def _fractions(policy: PassPolicy) -> dict[str, Any]:
    return {"mig_slices": policy.mig_slices, "replicas": policy.time_slicing_replicas or 0}


def _number(
    con: duckdb.DuckDBPyConnection, written: dict[str, str], policy: PassPolicy, source_params: dict[str, Any]
) -> None:
    """Number the GPUs and the holders of the samples (_pass_gpus, _pass_holders)."""
    con.execute(query("gpu_pass_macros"))
    con.execute(fill(query("gpu_pass_gpus"), **written), source_params)
    con.execute(fill(query("gpu_pass_holders"), **written), {**_fractions(policy), **source_params})
