"""The telemetry a GPU pass reads: a frame, Parquet files, or staging.gpu_samples read in
place by the warehouse connection (`WarehouseSamples`, a window of time and a set of hosts), and
the columns a pass reads of them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.ledger.frame import month_days, query
from pipeline.warehouse import fill

WORKLOAD_KEYS = ["namespace", "pod", "container", "labels"]
# the columns of staging.gpu_samples a pass reads, in order
SAMPLE_COLUMNS = (
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
    keep_as: str | None = None  # the build's recipe digest: keep the hourly pass in ledger.gpu_held

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

    def source(self, con: duckdb.DuckDBPyConnection, *, days: bool = False) -> tuple[str, dict[str, Any]]:
        """A subquery over staging.gpu_samples and its parameters (hosts registered on `con`).
        `days`: over the rows of ledger.telemetry_days instead (the window must be whole days)."""
        params: dict[str, Any] = {"lo": self.lo, "hi": self.hi}
        if days:
            if self.lo.time() != time() or self.hi.time() != time():
                raise ValueError(f"telemetry days of a window of whole days only, not {self.lo} to {self.hi}")
            window = "(select * from ledger.telemetry_days where day >= cast($lo as date) and day < cast($hi as date))"
        else:
            window = "(select * from staging.gpu_samples where ts >= $lo and ts < $hi)"
        if self.hosts is None:
            return window, params
        # a Polars frame: building a pyarrow table from Python lists imports pandas (0.2 s a process)
        con.register("_sample_hosts", pl.DataFrame({"host": list(self.hosts)}, schema={"host": pl.String}))
        named = query("gpu_samples_of_named_hosts" if not self.short_names else "gpu_samples_of_hosts")
        return f"({fill(named, in_window=window)})", params


Samples = pl.DataFrame | pl.LazyFrame | list[Path] | WarehouseSamples


def sample_window(con: duckdb.DuckDBPyConnection, period: str) -> tuple[datetime, datetime]:
    """The telemetry a period needs: its days, widened to whole days around every billed charge
    period in it. A charge ending at midnight ends its day (the end is exclusive): a month's last
    hourly charges do not widen the window, so the GPU pools' kept pass (keyed by the window) is
    still valid the night they arrive."""
    days = month_days(period)
    start, end = days[0], days[-1] + timedelta(days=1)
    [(first, last)] = con.execute(
        "select min(ChargePeriodStart), max(ChargePeriodEnd) from staging.billing where x_BillingPeriod = ?", [period]
    ).fetchall()
    if first is not None:
        last_day = last.date() if last.time() == time() else last.date() + timedelta(days=1)
        start, end = min(first.date(), start), max(last_day, end)
    return datetime.combine(start, time()), datetime.combine(end, time())
