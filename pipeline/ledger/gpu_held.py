"""The GPU pools' hourly pass kept between builds (ledger.gpu_held), so that a nightly build passes
over the new telemetry only.

The kept rows are valid for one recipe, pool and sample window (`held_key`), per host, and for the
telemetry file versions they were made from (ledger.gpu_held_loads, per host). When versions of a
host's samples arrive or go, every hour of that host from the earliest sample they touch is passed
again (pipeline.ledger.gpu_pass)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl

from pipeline.config import Config, GpuPool
from pipeline.ledger import gpu_pass
from pipeline.ledger.frame import query
from pipeline.ledger.gpu_samples import WarehouseSamples
from pipeline.warehouse import fill

LOAD_COLUMNS = ["hostname", "load_id", "first_ts", "last_ts"]  # a file version kept, per host


def kept_held(samples: WarehouseSamples, config: Config, pool: GpuPool) -> tuple[int, list[str]] | None:
    """Bring the hourly pass of a pool's samples up to date in ledger.gpu_held; return the first
    hour (microseconds since the epoch) whose rows changed and the hosts they changed for, or
    None when nothing did.

    That hour is the one `telemetry_gap_steps` steps before the first sample that arrived or went:
    a sample holds its GPU until the next one only when that comes within so many steps, so no
    earlier interval changed. Samples from as long again before that hour are read too, so every
    interval reaching the hour is whole. Runs inside the
    caller's transaction (the build's), so the kept pass and the rows split from it change
    together."""
    con = samples.con
    key = held_key(samples, pool)
    loads = load_versions(samples)
    kept = con.sql(
        query("gpu_held_kept_loads"),
        params={"key": key, "every_host": samples.hosts is None, "hosts": list(samples.hosts or [])},
    ).pl()
    changed = changed_versions(loads, kept)
    if not changed.height:
        return None
    hosts = sorted(changed.get_column("hostname").unique().to_list())
    first_changed = changed.get_column("first_ts").min()
    assert isinstance(first_changed, datetime)  # a timestamp column with rows
    reach = gap_reach(loads, config)
    # a sample up to `reach` before the first changed one may have had it (or lost it) as its next
    # sample: its interval, in that earlier hour, changed too
    start = (first_changed - reach).replace(minute=0, second=0, microsecond=0)
    again = replace(samples, hosts=tuple(hosts), lo=max(samples.lo, start - reach))
    con.execute(
        "delete from ledger.gpu_held where key = ? and bucket >= ? and hostname in (select unnest(?))",
        [key, epoch_us(start), hosts],
    )
    for fresh in gpu_pass.held_frames(again, config, pool, every="1h"):
        rows = fresh.filter(pl.col("bucket") >= epoch_us(start)).select(
            pl.lit(key).alias("key"), *gpu_pass.HELD_COLUMNS
        )
        con.register("_held_rows", rows.to_arrow())
        try:
            con.execute("insert into ledger.gpu_held by name select * from _held_rows")
        finally:
            con.unregister("_held_rows")
    con.execute("delete from ledger.gpu_held_loads where key = ? and hostname in (select unnest(?))", [key, hosts])
    fresh_loads = loads.filter(pl.col("hostname").is_in(hosts)).select(pl.lit(key).alias("key"), *LOAD_COLUMNS)
    con.register("_held_loads", fresh_loads.to_arrow())
    try:
        con.execute("insert into ledger.gpu_held_loads by name select * from _held_loads")
    finally:
        con.unregister("_held_loads")
    return epoch_us(start), hosts


def load_versions(samples: WarehouseSamples) -> pl.DataFrame:
    """The telemetry file versions among `samples` (a window of whole days), per host: first and
    last sample time, longest step (gpu_held_load_versions.sql), from ledger.telemetry_days, which
    the build brought up to date first (pipeline.warehouse.refresh_telemetry_days): no sample is read."""
    cursor = samples.con.cursor()
    try:
        source, params = samples.source(cursor, days=True)
        return cursor.sql(fill(query("gpu_held_load_versions"), days=source), params=params).pl()
    finally:
        cursor.close()


def changed_versions(loads: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """(hostname, first_ts) of the file versions in `loads` and not in `kept` (arrived), or the
    other way round (gone)."""
    return pl.concat(
        [
            loads.join(kept, on=LOAD_COLUMNS, how="anti").select("hostname", "first_ts"),
            kept.join(loads, on=LOAD_COLUMNS, how="anti").select("hostname", "first_ts"),
        ]
    )


def gap_reach(loads: pl.DataFrame, config: Config) -> timedelta:
    """The longest a sample of `loads` holds its GPU without a next one: telemetry_gap_steps of
    their longest step (or the configured step)."""
    longest_step = loads.get_column("step").max() if loads.height else None
    step = int(longest_step) if isinstance(longest_step, int) and longest_step else config.telemetry_step_seconds
    return timedelta(seconds=step * config.telemetry_gap_steps)


def held_key(samples: WarehouseSamples, pool: GpuPool) -> str:
    """The ledger.gpu_held key of a pool's kept pass over `samples`' window."""
    return hashlib.sha256(
        "\0".join(
            [
                samples.keep_as or "",
                pool.name,
                samples.lo.isoformat(),
                samples.hi.isoformat(),
                str(samples.short_names),
                "per-host",
            ]
        ).encode()
    ).hexdigest()[:16]


def epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch of a naive UTC datetime (the bucket's unit)."""
    return int((moment - datetime(1970, 1, 1)).total_seconds()) * 1_000_000 + moment.microsecond
