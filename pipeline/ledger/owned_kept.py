"""The owned servers' parts kept between builds: a nightly build makes the hardware and energy parts
again only from the first day new telemetry can change.

A day's owned-server parts depend on the register (staging.assets), the recipe, and the samples
of that day: its hardware parts also on those of the gap rule's reach before it (a sample holds
its GPU until the next one within the reach), its energy parts on an energy counter's next
reading, however late (a reading's energy is the increase to the next one; a power reading's is
its own). The candidate's parts are valid for one key (recipe, sample window, register) and for
the telemetry file versions they were made from (ledger.owned_loads, per host). When versions of
a server's samples arrive or go, each kind of part is made again from the day of the earliest
instant it can change (owned_changed_from.sql)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime, time

import duckdb
import polars as pl

from pipeline.config import Config
from pipeline.ledger.frame import month_days, query
from pipeline.ledger.gpu_held import LOAD_COLUMNS, changed_versions, gap_reach, load_versions
from pipeline.ledger.gpu_samples import WarehouseSamples
from pipeline.warehouse import fill


@dataclass(frozen=True)
class OwnedDays:
    """The owned-server parts to make: the hardware parts of the days from `first_day` on, the
    energy parts of those from `energy_day` on, from `samples` (which start the gap rule's reach
    before the earlier of the two). Both None: none (nothing changed)."""

    first_day: date | None
    energy_day: date | None
    samples: WarehouseSamples
    made_from: pl.DataFrame  # the rows of ledger.owned_loads that record them (keep_owned_loads)

    def energy_samples(self) -> WarehouseSamples:
        """The samples the energy parts are made from: those from `energy_day` on (a reading's
        energy needs only it and the readings after it)."""
        if self.energy_day is None:
            return self.samples
        return replace(self.samples, lo=max(self.samples.lo, datetime.combine(self.energy_day, time())))


def owned_days(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str,
    window: tuple[datetime, datetime],
    *,
    recipe: str,
    every_day: bool,
) -> OwnedDays:
    """Which days' owned-server parts to make again (every day when `every_day`: the period's
    candidate starts from nothing), and the telemetry file versions they are made from."""
    hosts = sorted(h for (h,) in con.execute("select distinct hostname from staging.assets").fetchall() if h)
    samples = WarehouseSamples(con, *window, hosts=tuple(hosts), short_names=False)
    first = month_days(period)[0]
    if not hosts:
        return OwnedDays(first, first, samples, pl.DataFrame())
    key = _key(con, recipe, window)
    loads = load_versions(samples)
    kept = con.sql(
        "select hostname, load_id, first_ts, last_ts from ledger.owned_loads where billing_period = ? and key = ?",
        params=[period, key],
    ).pl()
    made_from = loads.select(pl.lit(period).alias("billing_period"), pl.lit(key).alias("key"), *LOAD_COLUMNS)
    if every_day or kept.is_empty() or loads.is_empty():  # another key, or no samples (cheap)
        return OwnedDays(first, first, samples, made_from)
    changed = changed_versions(loads, kept)
    if not changed.height:
        return OwnedDays(None, None, samples, made_from)
    reach = gap_reach(loads, config)
    changed_hosts = replace(samples, hosts=tuple(sorted(changed.get_column("hostname").unique().to_list())))
    cursor = con.cursor()
    try:
        source, params = changed_hosts.source(cursor)
        [(held_from, energy_from)] = cursor.execute(
            fill(query("owned_changed_from"), samples=source),
            {**params, "first_changed": changed.get_column("first_ts").min(), "reach": reach},
        ).fetchall()
    finally:
        cursor.close()
    first_day, energy_day = max(first, held_from.date()), max(first, energy_from.date())
    start = datetime.combine(min(first_day, energy_day), time())
    return OwnedDays(first_day, energy_day, replace(samples, lo=max(samples.lo, start - reach)), made_from)


def _key(con: duckdb.DuckDBPyConnection, recipe: str, window: tuple[datetime, datetime]) -> str:
    """The key of owned-server parts made under `recipe`, over the sample window `window`, from the
    register as it is now."""
    [(register,)] = con.execute(
        "select count(*) || ':' || coalesce(sum(hash(a)), 0) from staging.assets as a"
    ).fetchall()
    parts = [recipe, window[0].isoformat(), window[1].isoformat(), register]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def keep_owned_loads(con: duckdb.DuckDBPyConnection, period: str, owned: OwnedDays) -> None:
    """Record in ledger.owned_loads what the period's owned-server parts were made from: inside the
    build's transaction, with the parts' rows."""
    con.execute("delete from ledger.owned_loads where billing_period = ?", [period])
    if owned.made_from.height:
        con.register("_owned_loads", owned.made_from.to_arrow())
        try:
            con.execute("insert into ledger.owned_loads by name select * from _owned_loads")
        finally:
            con.unregister("_owned_loads")
