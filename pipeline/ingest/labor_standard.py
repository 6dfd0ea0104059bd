"""Labor at standard rates: what of HR reaches the shared warehouse, computed in the restricted
database from the rows pipeline.ingest.labor keeps there.

The shared warehouse never holds a person's pay, an HR total, or a labor figure built from fewer
than k people (`[labor] k_anonymity`). It gets staging.labor_rates (per rate period, pay currency
and rate group: the standard rate per person-day and how many people it is the mean of) and
staging.labor (per month, model and labor cell: person-days x standard rate).

Rules, in order:
1. Rate groups, per rate period (`[labor] rate_period`: a year or a quarter) and pay currency,
   from everyone employed in it as the people file stands when the period is first rated. A
   group is publishable when it has at least k people and its rate is not one member's own pay
   per day (as an equal pay scale would make it). Bands that are not merge into their role family
   (`[labor] families`), which folds in its smallest bands until it is publishable; what is still
   not merges into "all staff", which folds in the smallest groups until it is. When even all
   staff is not, no rate of that currency and period is published, nor any cell using one.
2. A group's rate = its members' fully loaded pay over the period / their working days employed
   in it, rounded half to even to cents. Rates are kept in the restricted database with the
   version of the HR files they came from, and never move: a joiner, a leaver or a restated file
   changes the actual cost, so the variance, not a rate. A period is rated again only when the
   rate policy (k, families) changes or its rows are deleted from `labor_rates`. A band unknown
   when its period was rated takes its family's group, else all staff, else the largest group.
3. A person's standard cost in a month = working days employed x the group's rate, split across
   models (or __unallocated__) by the person's shares, exactly (pipeline.money.split_exact).
4. Cells, per month, model and currency: the model's people of each rate group. Cells of fewer
   than k people merge into the model's "all staff" cell, which folds in the model's smallest
   cells until it has k people. A model with fewer than k people that month is withheld: its
   standard cost stays here, with the variance.
5. Variance, per month and currency: actual HR cost (pay + training) - allocated standard cost
   (the published cells) = the rate variance + the withheld cells. It stays here (labor_variance)
   with the HR total: allocated + variance = HR cost, exactly; the shared warehouse gets only the
   verdict of that check (pipeline.validate, suite labor_conservation)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.columns import Bucket
from pipeline.config import Config
from pipeline.ingest import labor
from pipeline.ingest.labor_groups import (
    ALL_STAFF,
    Member,
    cell_labels,
    period_months,
    rate,
    rate_groups,
    rate_period,
)
from pipeline.money import MONEY, split_exact

RATE = pl.Decimal(38, 2)
CELLS_SCHEMA = pl.Schema(
    {
        "month": pl.String(),
        "model_id": pl.String(),
        "role": pl.String(),
        "currency": pl.String(),
        "rate_period": pl.String(),
        "headcount": pl.Int32(),
        "person_days": MONEY,
        "cost": MONEY,
    }
)
RATES_SCHEMA = pl.Schema(
    {
        "rate_period": pl.String(),
        "first_month": pl.String(),
        "last_month": pl.String(),
        "role": pl.String(),
        "currency": pl.String(),
        "headcount": pl.Int32(),
        "rate": RATE,
    }
)


@dataclass(frozen=True)
class Standard:
    """What the shared warehouse gets: published cells and rates, and the months they cover."""

    cells: pl.DataFrame  # CELLS_SCHEMA
    rates: pl.DataFrame  # RATES_SCHEMA
    months: list[str]


def policy(config: Config) -> str:
    """What rate groups depend on besides the people: a period is rated again when it changes."""
    families = dict(sorted(config.labor.families.items()))
    return json.dumps({"k_anonymity": config.labor.k_anonymity, "families": families})


def build(con: duckdb.DuckDBPyConnection, config: Config, *, version: str) -> Standard:
    """Rate the periods not rated yet, then rebuild the cells and the variance of every month with
    HR data, in the restricted database (one transaction). Returns what may be published."""
    months = labor.months_with_hr(con)
    if not months:  # no month has allocations, hours or training yet: nothing to allocate
        con.execute("delete from labor_cells")
        con.execute("delete from labor_variance")
        return Standard(cells=pl.DataFrame(schema=CELLS_SCHEMA), rates=pl.DataFrame(schema=RATES_SCHEMA), months=[])
    kind = config.labor.rate_period
    periods = sorted({rate_period(m, kind) for m in months})
    employed = labor.paid(con, config, sorted({m for p in periods for m in period_months(p)}))
    employed = employed.with_columns(
        pl.col("month").map_elements(lambda m: rate_period(m, kind), return_dtype=pl.String).alias("rate_period")
    )
    con.execute("begin transaction")
    try:
        _rate_missing(con, employed.filter(pl.col("days") > 0), config, version)
        rates, bands = _rates(con, config)
        in_months = employed.filter(pl.col("month").is_in(months))
        people = _standard(in_months.filter(pl.col("days") > 0), rates, bands, config)
        cells = _cells(con, people, config.labor.k_anonymity)
        _variance(con, in_months, people, cells, version)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    published = _published_cells(cells)
    published_rates = rates.filter(pl.col("published") & pl.col("rate_period").is_in(periods)).select(
        "rate_period",
        pl.col("rate_period").map_elements(lambda p: period_months(p)[0], return_dtype=pl.String).alias("first_month"),
        pl.col("rate_period").map_elements(lambda p: period_months(p)[-1], return_dtype=pl.String).alias("last_month"),
        pl.col("role_group").alias("role"),
        "currency",
        "headcount",
        "rate",
    )
    return Standard(
        cells=published.select(list(CELLS_SCHEMA)).cast(CELLS_SCHEMA),
        rates=published_rates.cast(RATES_SCHEMA).sort("rate_period", "currency", "role"),
        months=months,
    )


def _rate_missing(con: duckdb.DuckDBPyConnection, employed: pl.DataFrame, config: Config, version: str) -> None:
    """Rate each (rate period, currency) of `employed` that has no rates under this policy."""
    current = policy(config)
    query = "select distinct rate_period, currency from labor_rates where policy = ?"
    rated = set(con.execute(query, [current]).fetchall())
    now = datetime.now(UTC).replace(tzinfo=None)
    totals = employed.group_by("rate_period", "currency", "role", "person").agg(
        pl.col("pay").sum(), pl.col("days").sum()
    )
    for (period, currency), rows in sorted(totals.group_by("rate_period", "currency"), key=lambda g: g[0]):
        if (period, currency) in rated:
            continue
        bands: dict[str, dict[str, Member]] = {}
        for r in rows.iter_rows(named=True):
            bands.setdefault(r["role"], {})[r["person"]] = Member(r["pay"], r["days"])
        label, published = rate_groups(bands, k=config.labor.k_anonymity, families=config.labor.families)
        con.execute("delete from labor_rates where rate_period = ? and currency = ?", [period, currency])
        con.execute("delete from labor_rate_bands where rate_period = ? and currency = ?", [period, currency])
        for group in sorted(set(label.values())):
            members = [m for band, people in bands.items() if label[band] == group for m in people.values()]
            con.execute(
                "insert into labor_rates values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    period,
                    currency,
                    group,
                    len(members),
                    sum(m.days for m in members),
                    rate(members),
                    published,
                    current,
                    version,
                    now,
                ],
            )
        for band in sorted(bands):
            con.execute("insert into labor_rate_bands values (?, ?, ?, ?)", [period, currency, band, label[band]])


def _rates(con: duckdb.DuckDBPyConnection, config: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The kept rates of this policy, and their band -> group map."""
    current = policy(config)
    rates = con.sql(
        "select rate_period, currency, role_group, headcount, rate, published from labor_rates where policy = $policy",
        params={"policy": current},
    ).pl()
    bands = con.sql(warehouse.sql_text("labor", "policy_rate_bands"), params={"policy": current}).pl()
    return rates, bands


def _standard(employed: pl.DataFrame, rates: pl.DataFrame, bands: pl.DataFrame, config: Config) -> pl.DataFrame:
    """One row per person and month: rate group, rate, whether it is published, standard cost."""
    groups: dict[tuple[str, str], dict[str, tuple[int, Decimal, bool]]] = {}
    for r in rates.iter_rows(named=True):
        key = (r["rate_period"], r["currency"])
        groups.setdefault(key, {})[r["role_group"]] = (r["headcount"], r["rate"], r["published"])
    mapped = {(r["rate_period"], r["currency"], r["band"]): r["role_group"] for r in bands.iter_rows(named=True)}

    def group_of(period: str, currency: str, band: str) -> str:
        known = groups[(period, currency)]
        found = mapped.get((period, currency, band))
        family = config.labor.families.get(band)
        for candidate in (found, family, ALL_STAFF):
            if candidate in known:
                return candidate
        return sorted(known, key=lambda g: (-known[g][0], g))[0]

    records = []
    for p in employed.iter_rows(named=True):
        group = group_of(p["rate_period"], p["currency"], p["role"])
        _, group_rate, published = groups[(p["rate_period"], p["currency"])][group]
        records.append(
            {
                "month": p["month"],
                "person": p["person"],
                "currency": p["currency"],
                "rate_period": p["rate_period"],
                "role_group": group,
                "published": published,
                "std": Decimal(p["days"]) * group_rate,
                "person_days": Decimal(p["days"]),
            }
        )
    schema = pl.Schema(
        {
            "month": pl.String(),
            "person": pl.String(),
            "currency": pl.String(),
            "rate_period": pl.String(),
            "role_group": pl.String(),
            "published": pl.Boolean(),
            "std": MONEY,
            "person_days": MONEY,
        }
    )
    return pl.DataFrame(records, schema=schema)


def _cells(con: duckdb.DuckDBPyConnection, people: pl.DataFrame, k: int) -> pl.DataFrame:
    """Split each person's month across models, group into cells, merge or withhold small ones;
    store every cell in labor_cells. One row per (month, model, currency, rate group) with its
    people, cost, person-days and cell label (null: withheld)."""
    shares = labor.shares(con)
    parts = people.join(shares, on=["month", "person"], how="left").with_columns(
        pl.col("model_id").fill_null(Bucket.UNALLOCATED.value), pl.col("w").fill_null(1)
    )
    split = split_exact(
        parts.lazy(), group=["month", "person"], key=["model_id"], weight="w", amounts=["std", "person_days"]
    ).collect()
    grouped = (
        split.group_by("month", "model_id", "currency", "rate_period", "role_group", "published")
        .agg(
            pl.col("person").unique().sort().alias("people"),
            pl.col("std").sum().alias("cost"),
            pl.col("person_days").sum(),
        )
        .sort("month", "model_id", "currency", "role_group")
    )
    labels: dict[tuple[str, str, str, str], str | None] = {}
    for (month, model, currency), rows in grouped.group_by("month", "model_id", "currency", maintain_order=True):
        groups = {r["role_group"]: set(r["people"]) for r in rows.iter_rows(named=True)}
        found = cell_labels(groups, k) if rows.get_column("published").all() else None
        for group in groups:
            labels[(month, model, currency, group)] = None if found is None else found[group]
    keys = pl.struct("month", "model_id", "currency", "role_group")
    label_of = lambda r: labels[(r["month"], r["model_id"], r["currency"], r["role_group"])]  # noqa: E731
    cells = grouped.with_columns(keys.map_elements(label_of, return_dtype=pl.String).alias("cell"))
    stored = cells.select(
        "month",
        "model_id",
        "currency",
        "role_group",
        "cell",
        pl.when(pl.col("cell").is_null())
        .then(pl.lit("withheld"))
        .when(pl.col("cell") == pl.col("role_group"))
        .then(pl.lit("published"))
        .otherwise(pl.lit("merged"))
        .alias("status"),
        pl.col("people").list.len().cast(pl.Int32).alias("headcount"),
        "person_days",
        "cost",
    )
    con.execute("delete from labor_cells")
    con.register("incoming_cells", stored.to_arrow())
    con.execute("insert into labor_cells by name select * from incoming_cells")
    con.unregister("incoming_cells")
    return cells


def _published_cells(cells: pl.DataFrame) -> pl.DataFrame:
    """The cells that may be published, merged by label: headcount counts each person once."""
    kept = cells.filter(pl.col("cell").is_not_null())
    return (
        kept.group_by("month", "model_id", "cell", "currency", "rate_period")
        .agg(
            pl.col("people").explode().n_unique().cast(pl.Int32).alias("headcount"),
            pl.col("person_days").sum(),
            pl.col("cost").sum(),
        )
        .rename({"cell": "role"})
        .sort("month", "model_id", "role", "currency")
    )


def _variance(
    con: duckdb.DuckDBPyConnection, employed: pl.DataFrame, people: pl.DataFrame, cells: pl.DataFrame, version: str
) -> None:
    """labor_variance: per month and currency, the HR cost (pay + training), the standard cost,
    what of it is allocated (published) and withheld, and the variance = HR cost - allocated."""
    spend = labor.training(con, employed).join(employed.select("month", "person"), on=["month", "person"], how="inner")
    hr = (
        pl.concat(
            [
                employed.select("month", "currency", "person", pl.col("pay").alias("cost")),
                spend.select("month", "currency", "person", pl.col("amount").alias("cost")),
            ]
        )
        .group_by("month", "currency")
        .agg(pl.col("person").n_unique().cast(pl.Int32).alias("headcount"), pl.col("cost").sum().alias("hr_cost"))
    )
    standard = people.group_by("month", "currency").agg(pl.col("std").sum().alias("standard_cost"))
    published = cells.filter(pl.col("cell").is_not_null())
    allocated = published.group_by("month", "currency").agg(pl.col("cost").sum().alias("allocated_cost"))
    zero = pl.lit(Decimal(0), dtype=MONEY)
    variance = (
        hr.join(standard, on=["month", "currency"], how="full", coalesce=True)
        .join(allocated, on=["month", "currency"], how="full", coalesce=True)
        .with_columns(
            pl.col("headcount").fill_null(0),
            pl.col("hr_cost").fill_null(zero),
            pl.col("standard_cost").fill_null(zero),
            pl.col("allocated_cost").fill_null(zero),
        )
        .with_columns(
            (pl.col("standard_cost") - pl.col("allocated_cost")).alias("withheld_cost"),
            (pl.col("hr_cost") - pl.col("allocated_cost")).alias("variance"),
            pl.lit(version).alias("hr_version"),
        )
    )
    con.execute("delete from labor_variance")
    con.register("incoming_variance", variance.to_arrow())
    con.execute("insert into labor_variance by name select * from incoming_variance")
    con.unregister("incoming_variance")
