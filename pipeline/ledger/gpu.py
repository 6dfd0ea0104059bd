"""GPU-time held per workload, from telemetry: the integer weights that split a GPU node's cost.

1. Intervals. A GPU's samples (all metrics, per host and GPU) form a timeline: a sample at ts
   holds the GPU until the next one, when that comes within `telemetry_gap_steps` x the step;
   otherwise it holds one step and the silence after it is a telemetry gap. Intervals that cross
   a bucket boundary (hour or day) are cut there. Instants are integer microseconds since the
   epoch; the time a GPU is held is counted in integer milliseconds.
2. Holders. At one instant a GPU is held by one pod, by several (time-slicing: each holds
   1/replicas, or 1/n of the n pods present when no replica count is declared), or it is cut into
   MIG slices (profile `3g.40gb` holds 3/mig_slices; n pods on one slice share it equally). No pod: idle.
   Unheld fractions (unused MIG slices, unused replicas) are idle. Fractions are exact: every
   fraction is an integer number of 1/S, S the least common multiple of the denominators present.
3. Policy. gpu_time: weight = ms x fraction. utilisation: the holder's weight is ms x fraction x
   utilisation (GR_ENGINE_ACTIVE, else GPU_UTIL, in basis points) and the unused rest is idle (a
   slot with no utilisation sample counts as fully used).
4. Buckets. No pod: __idle__. A pod no workload rule maps: __unallocated__
   (unmapped_workload:<namespace>). Capacity the samples do not cover: __unallocated__
   (telemetry_gap), never guessed. Idle may be redistributed to the models of the same split.

Steps 1-2 are one pass of DuckDB over the samples (`_PASS_SQL`: in the warehouse, where they lie,
a group of hosts at a time; or an in-memory DuckDB over a frame or Parquet files): samples are
grouped by instant first (host, GPU, time), so a month of a thousand GPUs is a few hash
aggregations and one window over integers. The result is one row per host, bucket, holder and
fraction. For the cloud GPU pools the hourly pass is kept in ledger.gpu_held (`kept_held`) and the
build applies steps 3-4 and splits the node rows in SQL (sql/ledger/passes/gpu_slices.sql,
gpu_weights.sql, gpu_node_parts.sql); `gpu_weights` runs the same SQL for the owned servers' daily
split and for tests. Workload rules are regular expressions matched in full by DuckDB (RE2).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from pipeline import warehouse
from pipeline.columns import Bucket
from pipeline.config import Config
from pipeline.ledger.config_tables import workload_rule_rows

UTIL_FULL = 10_000  # basis points
_UTIL_METRICS = ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_DEV_GPU_UTIL")
WORKLOAD_KEYS = ["namespace", "pod", "container", "labels"]


@dataclass(frozen=True)
class WarehouseSamples:
    """Samples read where they lie, in staging.gpu_samples, by the warehouse connection: those
    from `lo` (inclusive) to `hi` (exclusive) of `hosts` (a host matches its hostname, or the
    hostname's first DNS label: the instance id `i-0abc` is the node `i-0abc.ec2.internal`, and
    takes the host's name). A month of a thousand GPUs never passes through Python."""

    con: duckdb.DuckDBPyConnection
    lo: datetime
    hi: datetime
    hosts: tuple[str, ...] | None = None  # None: every host
    short_names: bool = True  # also match a hostname by its first DNS label
    keep_as: str | None = None  # a recipe digest: keep the hourly pass in ledger.gpu_held (kept_held)

    def of_hosts(self, hosts: list[str], *, short_names: bool = True) -> WarehouseSamples:
        return replace(self, hosts=tuple(hosts), short_names=short_names)

    def since(self, lo: datetime) -> WarehouseSamples:
        return replace(self, lo=lo)

    def frame(self, *, metrics: list[str] | None = None) -> pl.DataFrame:
        """These samples as a frame (for the small sets: owned servers' power)."""
        con = self.con.cursor()
        try:
            source, params = self.source(con)
            if metrics is not None:
                source += " where metric in (select unnest($metrics))"
                params["metrics"] = metrics
            return con.sql(f"select * from {source}", params=params).pl()
        finally:
            con.close()

    def source(self, con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
        """A subquery over staging.gpu_samples and its parameters (hosts registered on `con`)."""
        if self.hosts is None:
            return "(select * from staging.gpu_samples where ts >= $lo and ts < $hi)", {"lo": self.lo, "hi": self.hi}
        con.register("_sample_hosts", pa.table({"host": pa.array(list(self.hosts), pa.string())}))
        if not self.short_names:
            query = (
                "(select * from staging.gpu_samples where ts >= $lo and ts < $hi and "
                "hostname in (select host from _sample_hosts))"
            )
            return query, {"lo": self.lo, "hi": self.hi}
        query = """(
            select * replace (case when hostname in (select host from _sample_hosts) then hostname else
                split_part(hostname, '.', 1) end as hostname)
            from staging.gpu_samples
            where ts >= $lo and ts < $hi
              and (hostname in (select host from _sample_hosts)
                   or split_part(hostname, '.', 1) in (select host from _sample_hosts))
        )"""
        return query, {"lo": self.lo, "hi": self.hi}


@dataclass(frozen=True)
class Weights:
    """Integer weights per (keys..., model_id, unallocated_reason): `w`, and `gpu_units` =
    GPU-milliseconds x S. One millisecond of one whole GPU weighs S x per_unit in `w`."""

    frame: pl.DataFrame
    per_unit: int  # UTIL_FULL under the utilisation policy, else 1
    slices: int  # S

    def gpu_hours(self, units: pl.Expr) -> pl.Expr:
        from pipeline.ledger.frame import QTY

        # units / (S x 3.6e6) to 9 decimals, truncated (Decimal / Decimal at scale 0 would drop the fraction)
        nanohours = (units.cast(pl.Int128) * 10**9) // (self.slices * 3_600_000)
        return (nanohours.cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.000000001"), dtype=pl.Decimal(38, 9))).cast(QTY)


Samples = pl.DataFrame | pl.LazyFrame | list[Path] | WarehouseSamples

_BUCKET_US = {"1h": 3_600_000_000, "1d": 86_400_000_000}
_SAMPLE_COLUMNS = (
    "hostname",
    "gpu",
    "ts",
    "step_seconds",
    "mig_profile",
    "mig_instance",
    *WORKLOAD_KEYS,
    "metric",
    "value",
)
_HOLDERS = ("mig_profile", "mig_instance", *WORKLOAD_KEYS)

# Steps 1-2 in SQL, one pass over the samples (any number of them) to one row per host, bucket,
# holder and fraction num/den, with the GPU-milliseconds held (`ms`) and, for the utilisation
# policy, the milliseconds x utilisation (`ms_util`). Times are integer microseconds (`t`). An
# instant's samples are grouped by holder first: it is single-holder when they form one group.
# An instant whose samples all name one holder (the usual case) is one slot; instants with several
# holders (MIG slices, time-sliced pods) are expanded from `_gpu_multi` (built first, only when the
# pass finds such an instant). `single` marks rows of single-holder instants: their unheld rest
# (den - num)/den is idle, added after the query.
_PASS_SQL = """
with src as (
    select {columns} from {source}
),

holders as (
    select
        hostname, gpu, t, max(step_seconds) as step_seconds,
        mig_profile, mig_instance, namespace, pod, container, labels{util_parts}
    from src
    group by hostname, gpu, t, mig_profile, mig_instance, namespace, pod, container, labels
),

instants as (
    select
        hostname, gpu, t, max(step_seconds)::bigint * 1000 as step_ms,
        any_value(mig_profile) as mig_profile, any_value(mig_instance) as mig_instance,
        any_value(namespace) as namespace,
        any_value(pod) as pod, any_value(container) as container, any_value(labels) as labels,
        {instant_util} as util_bp, count(*) = 1 as single
    from holders
    group by hostname, gpu, t
),

timed as (
    select
        * exclude (step_ms),
        coalesce(
            case when (lead(t) over w - t) // 1000 <= step_ms * $gap_steps then (lead(t) over w - t) // 1000 end,
            step_ms
        ) as ms
    from instants
    window w as (partition by hostname, gpu order by t)
),

slots as (
    {slots}
),

pieces as (
    select *, unnest(case when e <= b0 + $bucket_us then [b0] else
        generate_series(b0, (t + (ms - 1) * 1000) // $bucket_us * $bucket_us, $bucket_us) end) as bucket
    from (select *, t // $bucket_us * $bucket_us as b0, t + ms * 1000 as e from slots)
),

cut as (
    select *, (least(e, bucket + $bucket_us) - greatest(t, bucket)) // 1000 as piece_ms
    from pieces
),

final as (
    select
        hostname, bucket, namespace, pod, container, labels, num, den, single,
        sum(piece_ms) as ms,
        sum(piece_ms * coalesce(util_bp, {full})) as ms_util
    from cut
    group by hostname, bucket, namespace, pod, container, labels, num, den, single
)

select * from final
"""

# a single-holder instant: a MIG profile `3g.40gb` holds 3 of mig_slices; a pod on a whole GPU holds
# it all, or 1/replicas when replicas are declared
_SINGLE_SLOTS = """
    select
        hostname, gpu, t, ms, namespace, pod, container, labels, util_bp, single,
        case when mig_profile is not null or mig_instance is not null
            then coalesce(try_cast(nullif(regexp_extract(mig_profile, '^(\\d+)g', 1), '') as bigint), 1) else 1 end
                as num,
        case when mig_profile is not null or mig_instance is not null then $mig_slices
            when pod is null then 1 else greatest(1, $replicas) end as den
    from timed
"""
# with multi-holder instants: their slots replace them
_ALL_SLOTS = """
    select
        i.hostname, i.gpu, i.t, i.ms,
        case when i.single then i.namespace else m.namespace end as namespace,
        case when i.single then i.pod else m.pod end as pod,
        case when i.single then i.container else m.container end as container,
        case when i.single then i.labels else m.labels end as labels,
        case when i.single then i.util_bp else m.util_bp end as util_bp,
        i.single,
        case when i.single then i.num else m.num end as num,
        case when i.single then i.den else m.den end as den
    from ({single}) as i
    left join _gpu_multi as m on not i.single and i.hostname = m.hostname and i.gpu = m.gpu and i.t = m.t
"""

# Multi-holder instants -> their slots: n pods sharing a GPU (or one MIG slice) hold 1/n of it each
# (1/replicas when more replicas are declared); an idle row beside holders of the same GPU (or slice)
# adds nothing, nor does a GPU-level row (no MIG labels, no pod) beside the GPU's MIG slices; the
# unheld rest of the instant (1 - the fractions held) is an idle slot.
_MULTI_SQL = """
create or replace temp table _gpu_multi as
with src as (
    select {columns} from {source}
),

multi as (
    select hostname, gpu, t
    from src
    group by hostname, gpu, t
    having not ({same})
),

slots as (
    select hostname, gpu, t, mig_profile, mig_instance, namespace, pod, container, labels, {util} as util_bp
    from src semi join multi using (hostname, gpu, t)
    group by hostname, gpu, t, mig_profile, mig_instance, namespace, pod, container, labels
),

shared as (
    select
        *,
        (mig_profile is not null or mig_instance is not null) as is_mig,
        bool_or(mig_profile is not null or mig_instance is not null)
            over (partition by hostname, gpu, t) as mig_instant,
        count(pod) over (partition by hostname, gpu, t, mig_instance) as n
    from slots
),

held as (
    select
        hostname, gpu, t, namespace, pod, container, labels, util_bp,
        case when is_mig then coalesce(try_cast(nullif(regexp_extract(mig_profile, '^(\\d+)g', 1), '') as bigint), 1)
            else 1 end as num,
        (case when is_mig then $mig_slices else 1 end)
        * (case when pod is null then 1 when is_mig then n else greatest(n, $replicas) end) as den
    from shared
    where (pod is not null or n = 0) and (is_mig or pod is not null or not mig_instant)
),

lcms as (
    select hostname, gpu, t, list_reduce(list(den), lambda a, b: lcm(a, b)) as l
    from held
    group by hostname, gpu, t
),

rest as (
    select hostname, gpu, t, any_value(l) as l, sum(num * (l // den))::bigint as used
    from held inner join lcms using (hostname, gpu, t)
    group by hostname, gpu, t
),

final as (
    select * from held
    union all
    select hostname, gpu, t, null, null, null, null, null, l - used, l
    from rest
    where used < l
)

select * from final
"""

# utilisation in basis points: GR_ENGINE_ACTIVE (a ratio), else GPU_UTIL (percent), exact decimals
# rounded half to even, clipped to [0, 1]
_UTIL_BP = f"""round_even(coalesce(
        (max(value) filter (where metric = '{_UTIL_METRICS[0]}'))::decimal(38, 9) * {UTIL_FULL},
        (max(value) filter (where metric = '{_UTIL_METRICS[1]}'))::decimal(38, 9) * {UTIL_FULL // 100}
    ), 0)::bigint"""
_UTIL_SQL = f"case when {_UTIL_BP} is null then null else least(greatest({_UTIL_BP}, 0), {UTIL_FULL}) end"
# the same from the per-holder maxima of the pass's `holders` step (the max of maxima is the max)
_UTIL_PARTS = (
    f", max(value) filter (where metric = '{_UTIL_METRICS[0]}') as active_ratio,"
    f" max(value) filter (where metric = '{_UTIL_METRICS[1]}') as util_percent"
)
_INSTANT_UTIL_BP = f"""round_even(coalesce(
        max(active_ratio)::decimal(38, 9) * {UTIL_FULL},
        max(util_percent)::decimal(38, 9) * {UTIL_FULL // 100}
    ), 0)::bigint"""
_INSTANT_UTIL_SQL = (
    f"case when {_INSTANT_UTIL_BP} is null then null else least(greatest({_INSTANT_UTIL_BP}, 0), {UTIL_FULL}) end"
)


def _source_columns(names: list[str], default_step: int) -> str:
    """The select list of the samples source: canonical columns, absent optional ones as null."""
    out = []
    for column in _SAMPLE_COLUMNS:
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


def _instant_holders(names: list[str]) -> tuple[str, str]:
    """Per instant: each holder column's value, and whether all its samples name one holder."""
    holders, same = [], []
    for column in _HOLDERS:
        if column in names:
            holders.append(f"min({column}) as {column}")
            same.append(f"(count({column}) = 0 or (count({column}) = count(*) and min({column}) = max({column})))")
        else:
            holders.append(f"null::varchar as {column}")
    return ", ".join(holders), " and ".join(same) or "true"


PASS_SAMPLES = 4_000_000  # samples per pass over the warehouse: hosts go in groups of about this many


def _held(samples: Samples, config: Config, policy, *, every: str) -> Iterator[pl.DataFrame]:
    """The SQL pass: GPU-ms (and ms x utilisation) per host, bucket, holder and fraction, a frame
    per group of hosts. Samples in the warehouse are passed a group of hosts at a time (a GPU's
    timeline never spans two groups), so memory stays flat however many GPUs a pool has."""
    if isinstance(samples, WarehouseSamples) and samples.hosts is not None and len(samples.hosts) > 1:
        groups = _host_groups(samples)
        if len(groups) > 1:
            return (_pass(replace(samples, hosts=group), config, policy, every=every) for group in groups)
    return iter([_pass(samples, config, policy, every=every)])


def _host_groups(samples: WarehouseSamples) -> list[tuple[str, ...]]:
    """The hosts, in groups of about PASS_SAMPLES samples (a host alone when it has more)."""
    cursor = samples.con.cursor()
    try:
        source, params = samples.source(cursor)
        counts = cursor.sql(
            f"select hostname, count(*) from {source} group by hostname order by hostname", params=params
        ).fetchall()
    finally:
        cursor.close()
    groups: list[list[str]] = [[]]
    size = 0
    for host, count in counts:
        if groups[-1] and size + count > PASS_SAMPLES:
            groups.append([])
            size = 0
        groups[-1].append(host)
        size += count
    return [tuple(group) for group in groups if group]


def _pass(samples: Samples, config: Config, policy, *, every: str) -> pl.DataFrame:
    """One pass of `_PASS_SQL` over `samples`."""
    utilisation = policy.policy == "utilisation"
    memory = os.environ.get("COSTLEDGER_GPU_MEMORY", "2GB")
    source, where = "_samples", {}
    if isinstance(samples, WarehouseSamples):  # a cursor: its own temp tables, the same database
        con = samples.con.cursor()
    else:
        con = duckdb.connect(
            config={"threads": os.cpu_count() or 1, "preserve_insertion_order": False, "memory_limit": memory}
        )
    try:
        if isinstance(samples, WarehouseSamples):
            source, where = samples.source(con)
            names = [
                row[0]
                for row in con.execute(
                    "select column_name from duckdb_columns() where schema_name = 'staging' "
                    "and table_name = 'gpu_samples'"
                ).fetchall()
            ]
        elif isinstance(samples, (pl.DataFrame, pl.LazyFrame)):
            frame = samples.lazy()
            names = frame.collect_schema().names()
            needed = [c for c in _SAMPLE_COLUMNS if c in names and (utilisation or c not in ("metric", "value"))]
            con.register("_samples", frame.select(needed).collect().to_arrow())
        else:
            relation = con.read_parquet([str(p) for p in samples])
            relation.create_view("_samples")
            names = list(relation.columns)
        if not utilisation:
            names = [n for n in names if n not in ("metric", "value")]  # gpu_time reads neither
        measured = utilisation and {"metric", "value"} <= set(names)
        util = _UTIL_SQL if measured else "null::bigint"
        util_parts, instant_util = (_UTIL_PARTS, _INSTANT_UTIL_SQL) if measured else ("", "null::bigint")
        columns = _source_columns(names, config.telemetry_step_seconds)
        _, same = _instant_holders(names)  # the multi-holder expansion tests instants on the samples
        params = {
            "gap_steps": config.telemetry_gap_steps,
            "mig_slices": policy.mig_slices,
            "replicas": policy.time_slicing_replicas or 0,
            "bucket_us": _BUCKET_US[every],
            **where,
        }
        fractions = {k: params[k] for k in ("mig_slices", "replicas", *where)}

        def run(slots: str) -> pl.DataFrame:
            query = _PASS_SQL.format(
                columns=columns,
                source=source,
                util_parts=util_parts,
                instant_util=instant_util,
                slots=slots,
                full=UTIL_FULL,
            )
            return con.sql(query, params=params).pl()

        held = run(_SINGLE_SLOTS)
        if not held.filter(~pl.col("single")).is_empty():  # MIG slices or time-sliced pods: expand them
            con.execute(_MULTI_SQL.format(columns=columns, source=source, util=util, same=same), fractions)
            held = run(_ALL_SLOTS.format(single=_SINGLE_SLOTS))
    finally:
        con.close()
    return held.with_columns(pl.col(c).cast(pl.String) for c in WORKLOAD_KEYS)


def gpu_weights(samples: Samples, config: Config, policy, *, every: str) -> Weights:
    """Weights per (hostname, bucket, model_id, unallocated_reason): `w` (policy weight) and
    `gpu_units` (GPU-ms x S held). `policy` is a GpuPool or config.owned. `samples` is a frame of
    staging.gpu_samples rows, a list of Parquet files with those columns (absent optional
    columns are null; an absent step_seconds is the configured telemetry step), or
    WarehouseSamples (read in place by the warehouse connection).

    Millions of samples become a few rows per host and bucket in one pass of DuckDB over exact
    integers (aggregated by instant first); the policy (the build's own SQL, gpu_weights.sql) is
    applied to those rows in an in-memory DuckDB."""
    if every not in _BUCKET_US:
        raise ValueError(f"bucket {every!r}: expected one of {sorted(_BUCKET_US)}")
    frames = list(_held(samples, config, policy, every=every))
    held = pl.concat(frames) if frames else pl.DataFrame()
    con = duckdb.connect(config={"threads": 1})
    try:
        load_workload_rules(con, config)
        policies(con, [(POOL, policy)])
        con.register("_held_frame", held.select(_HELD_COLUMNS).to_arrow() if held.height else _empty_held())
        con.execute(_HELD_TABLE, [POOL])
        con.execute(f"create temp table _gpu_slices as {ledger_query('gpu_slices')}")
        ((slices, per_unit),) = con.execute("select slices, per_unit from _gpu_slices").fetchall()
        frame = con.sql(
            f"select hostname, make_timestamp(bucket) as bucket, model_id, unallocated_reason, w::bigint as w, "
            f"gpu_units::bigint as gpu_units from ({ledger_query('gpu_weights')})"
        ).pl()
    finally:
        con.close()
    return Weights(frame=frame, per_unit=int(per_unit), slices=int(slices))


POOL = "pool"  # the pool name gpu_weights gives its one policy
_HELD_TABLE = """
create temp table _gpu_held as
select
    ?::varchar as pool, hostname, bucket::bigint as bucket, namespace, pod, container, labels, num::bigint as num,
    den::bigint as den, single, ms::hugeint as ms, ms_util::hugeint as ms_util
from _held_frame
"""
_HELD_COLUMNS = ("hostname", "bucket", *WORKLOAD_KEYS, "num", "den", "single", "ms", "ms_util")


def _empty_held() -> pa.Table:
    return pa.table(
        {
            "hostname": pa.array([], pa.string()),
            "bucket": pa.array([], pa.int64()),
            **{c: pa.array([], pa.string()) for c in WORKLOAD_KEYS},
            "num": pa.array([], pa.int64()),
            "den": pa.array([], pa.int64()),
            "single": pa.array([], pa.bool_()),
            "ms": pa.array([], pa.int64()),
            "ms_util": pa.array([], pa.int64()),
        }
    )


def ledger_query(name: str) -> str:
    """The text of sql/ledger/passes/<name>.sql."""
    return (warehouse.SQL_DIR / "ledger" / "passes" / f"{name}.sql").read_text()


def load_workload_rules(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """meta.workload_rules of `config` in a scratch connection (the warehouse has its own)."""
    con.execute("create schema if not exists meta")
    con.execute((warehouse.SQL_DIR / "meta" / "workload_rules.sql").read_text())
    rows = workload_rule_rows(config)
    if rows:
        con.executemany(
            "insert into meta.workload_rules (rule_order, namespace_pattern, pod_pattern, model_id, phase) "
            "values (?, ?, ?, ?, ?)",
            rows,
        )


def policies(con: duckdb.DuckDBPyConnection, pools: list[tuple[str, object]]) -> None:
    """_gpu_policies: (pool, policy, idle, mig_slices, replicas) of each (name, GpuPool or
    config.owned), a temporary table of `con`."""
    con.execute(
        "create or replace temp table _gpu_policies (pool varchar, policy varchar, idle varchar, mig_slices integer, "
        "replicas integer)"
    )
    rows = [(name, p.policy, p.idle, p.mig_slices, p.time_slicing_replicas) for name, p in pools]
    if rows:
        con.executemany("insert into _gpu_policies values (?, ?, ?, ?, ?)", rows)


def kept_held(samples: WarehouseSamples, config: Config, policy) -> tuple[int, list[str]] | None:
    """Bring the hourly pass (`_held`) of a pool's samples up to date in ledger.gpu_held, so that a
    nightly build passes over the new telemetry only; return the first hour (microseconds since
    the epoch) whose rows changed and the hosts they changed for, or None when nothing did.

    The kept rows are valid for one recipe, pool and window (`key`), per host, and for the
    telemetry file versions they were made from (ledger.gpu_held_loads, per host). When versions
    of a host's samples arrive or go, every hour of that host from the earliest sample they touch
    is passed again; samples from `telemetry_gap_steps` steps before that hour are read too, since
    a sample holds its GPU at most that long, so every interval reaching the hour is whole. Runs
    inside the caller's transaction (the build's), so the kept pass and the rows split from it
    change together."""
    con = samples.con
    key = held_key(samples, policy)
    cursor = con.cursor()
    try:
        source, params = samples.source(cursor)
        loads = cursor.sql(
            f"select hostname, load_id, min(ts) as first_ts, max(ts) as last_ts, max(step_seconds) as step "
            f"from {source} group by hostname, load_id",
            params=params,
        ).pl()
    finally:
        cursor.close()
    kept = (
        con.sql(
            "select hostname, load_id, first_ts, last_ts from ledger.gpu_held_loads where key = ? "
            "and hostname in (select unnest(?))",
            params=[key, list(samples.hosts or [])],
        ).pl()
        if samples.hosts is not None
        else con.sql(
            "select hostname, load_id, first_ts, last_ts from ledger.gpu_held_loads where key = ?", params=[key]
        ).pl()
    )
    on = ["hostname", "load_id", "first_ts", "last_ts"]
    changed = pl.concat(
        [
            loads.join(kept, on=on, how="anti").select("hostname", "first_ts"),
            kept.join(loads, on=on, how="anti").select("hostname", "first_ts"),
        ]
    )
    if not changed.height:
        return None
    hosts = sorted(changed.get_column("hostname").unique().to_list())
    start = changed.get_column("first_ts").min().replace(minute=0, second=0, microsecond=0)
    step = int(loads.get_column("step").max() or config.telemetry_step_seconds)
    reach = timedelta(seconds=step * config.telemetry_gap_steps)
    again = replace(samples, hosts=tuple(hosts), lo=max(samples.lo, start - reach))
    con.execute(
        "delete from ledger.gpu_held where key = ? and bucket >= ? and hostname in (select unnest(?))",
        [key, _epoch_us(start), hosts],
    )
    for fresh in _held(again, config, policy, every="1h"):
        rows = fresh.filter(pl.col("bucket") >= _epoch_us(start)).select(pl.lit(key).alias("key"), *_HELD_COLUMNS)
        con.register("_held_rows", rows.to_arrow())
        try:
            con.execute("insert into ledger.gpu_held by name select * from _held_rows")
        finally:
            con.unregister("_held_rows")
    con.execute("delete from ledger.gpu_held_loads where key = ? and hostname in (select unnest(?))", [key, hosts])
    fresh_loads = loads.filter(pl.col("hostname").is_in(hosts)).select(pl.lit(key).alias("key"), *on)
    con.register("_held_loads", fresh_loads.to_arrow())
    try:
        con.execute("insert into ledger.gpu_held_loads by name select * from _held_loads")
    finally:
        con.unregister("_held_loads")
    return _epoch_us(start), hosts


def held_key(samples: WarehouseSamples, policy) -> str:
    """The ledger.gpu_held key of a pool's kept pass over `samples`' window."""
    return hashlib.sha256(
        "\0".join(
            [
                samples.keep_as or "",
                policy.name,
                samples.lo.isoformat(),
                samples.hi.isoformat(),
                str(samples.short_names),
                "per-host",
            ]
        ).encode()
    ).hexdigest()[:16]


def _epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch of a naive UTC datetime (the bucket's unit)."""
    return int((moment - datetime(1970, 1, 1)).total_seconds()) * 1_000_000 + moment.microsecond


def label_workloads(frame: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Add model_id (or bucket) and unallocated_reason from the workload columns: the first
    workload rule whose namespace and pod patterns match in full (DuckDB, RE2), as gpu_weights.sql."""
    frame = frame.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in WORKLOAD_KEYS if c not in frame.columns]
    )
    workloads = frame.select("namespace", "pod").unique()
    con = duckdb.connect(config={"threads": 1})
    try:
        load_workload_rules(con, config)
        con.register("_workloads", workloads.to_arrow())
        mapped = con.sql(_WORKLOAD_MODELS).pl()
    finally:
        con.close()
    return (
        frame.join(mapped, on=["namespace", "pod"], how="left", nulls_equal=True)
        .with_columns(
            pl.when(pl.col("pod").is_null())
            .then(pl.lit(Bucket.IDLE.value))
            .when(pl.col("workload_model").is_null())
            .then(pl.lit(Bucket.UNALLOCATED.value))
            .otherwise(pl.col("workload_model"))
            .alias("model_id"),
            pl.when(pl.col("pod").is_not_null() & pl.col("workload_model").is_null())
            .then(pl.lit("unmapped_workload:") + pl.col("namespace").fill_null("?"))
            .alias("unallocated_reason"),
        )
        .drop("workload_model")
    )


_WORKLOAD_MODELS = """
select namespace, pod, model_id as workload_model
from (
    select w.namespace, w.pod, r.model_id || coalesce('~' || r.phase, '') as model_id,
        row_number() over (partition by w.namespace, w.pod order by r.rule_order) as rule_rank
    from _workloads as w
    inner join meta.workload_rules as r
        on w.namespace is not null
        and regexp_full_match(w.namespace, r.namespace_pattern)
        and regexp_full_match(coalesce(w.pod, ''), r.pod_pattern)
) as ranked
where rule_rank = 1
"""


def held_seconds(samples: pl.DataFrame, config: Config, *, every: str) -> pl.DataFrame:
    """Whole GPU-seconds held per (hostname, bucket, model_id, unallocated_reason), gpu_time policy."""
    from types import SimpleNamespace

    policy = SimpleNamespace(policy="gpu_time", mig_slices=7, time_slicing_replicas=None)
    weights = gpu_weights(samples, config, policy, every=every)
    return weights.frame.with_columns((pl.col("gpu_units") // (weights.slices * 1000)).alias("seconds")).drop(
        "w", "gpu_units"
    )


def with_gap(weights: Weights, frame: pl.DataFrame, capacity: pl.DataFrame, *, keys: list[str]) -> pl.DataFrame:
    """Add a telemetry_gap part per key group: the capacity (`capacity`, GPU-ms) the samples did
    not cover (never < 0), weighed like held time. `frame` has keys, model_id,
    unallocated_reason, w and gpu_units (GPU-ms x S)."""
    S = weights.slices
    seen = frame.group_by(keys).agg(pl.col("gpu_units").sum().alias("_seen"))
    gaps = (
        capacity.join(seen, on=keys, how="left")
        .with_columns(
            (pl.col("capacity").cast(pl.Int64) * S - pl.col("_seen").fill_null(0))
            .clip(lower_bound=0)
            .alias("gpu_units")
        )
        .filter(pl.col("gpu_units") > 0)
        .with_columns(
            pl.lit(Bucket.UNALLOCATED.value).alias("model_id"),
            pl.lit("telemetry_gap").alias("unallocated_reason"),
            (pl.col("gpu_units") * weights.per_unit).alias("w"),
        )
        .select(*keys, "model_id", "unallocated_reason", "w", "gpu_units")
    )
    return pl.concat(
        [frame.select(*keys, "model_id", "unallocated_reason", "w", "gpu_units"), gaps], how="vertical_relaxed"
    )


def redistribute_idle(parts: pl.DataFrame, *, group: list[str], amounts: list[str]) -> pl.DataFrame:
    """Idle policy `redistribute`: each group's __idle__ part is split again over the registered
    models of the same group by their weight `w` (exactly); gap and unmapped parts keep theirs.
    A group with no model keeps its idle."""
    from pipeline.money import split_exact

    models = parts.filter(~pl.col("model_id").is_in([b.value for b in Bucket]))
    idle = parts.filter(pl.col("model_id") == Bucket.IDLE.value)
    takers = (
        idle.select(*group)
        .unique()
        .join(models.select(*group, "model_id", pl.col("w").alias("_mw")), on=group, how="inner")
    )
    if takers.is_empty():
        return parts
    groups = takers.select(group).unique().with_columns(pl.lit(True).alias("_take"))
    marked = parts.join(groups, on=group, how="left").with_columns(
        ((pl.col("model_id") == Bucket.IDLE.value) & pl.col("_take").fill_null(False)).alias("_take")
    )
    kept, movable = marked.filter(~pl.col("_take")).drop("_take"), marked.filter(pl.col("_take")).drop("_take")
    spread = movable.drop("model_id", "w").join(takers, on=group).with_columns(pl.col("_mw").alias("w"))
    spread = (
        split_exact(spread.lazy(), group=group, key=["model_id"], weight="w", amounts=amounts).collect().drop("_mw")
    )
    spread = spread.with_columns(pl.lit("idle_redistributed").alias("unallocated_reason_note"))
    kept = kept.with_columns(pl.lit(None, dtype=pl.String).alias("unallocated_reason_note"))
    return pl.concat([kept, spread.select(kept.columns)], how="vertical_relaxed")
