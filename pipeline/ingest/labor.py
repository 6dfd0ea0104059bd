"""HR inputs: people (fully loaded monthly cost) and their monthly allocation to models.

Individual rows live only in the restricted database (owner-only file); person ids are replaced
by a keyed hash. The shared warehouse gets staging.labor: cost per month, model and role group,
where a group of fewer than k people is merged into "other roles"."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import duckdb
import polars as pl

from pipeline.columns import Bucket
from pipeline.errors import CostLedgerError, InputError
from pipeline.ingest.parse import ROW, Col, Kind, Parsed, coerce, raw_records, read_csv_text, reject
from pipeline.money import MONEY, split_exact

KEY_ENV = "COSTLEDGER_PSEUDONYM_KEY"
OTHER_ROLES = "other roles"

PEOPLE: dict[str, Col] = {
    "person_id": Col(Kind.TEXT, True),
    "role": Col(Kind.TEXT, True),
    "cost_centre": Col(Kind.TEXT),
    "monthly_cost": Col(Kind.MONEY, True),
    "currency": Col(Kind.TEXT, True),
    "start_date": Col(Kind.DATE),
    "end_date": Col(Kind.DATE),
}
ALLOCATIONS: dict[str, Col] = {
    "month": Col(Kind.TEXT, True),
    "person_id": Col(Kind.TEXT, True),
    "model_id": Col(Kind.TEXT, True),
    "percent": Col(Kind.DECIMAL, True),
}
_RESTRICTED_DDL = """
create table if not exists people (load_id varchar, row_number bigint, person varchar, role varchar,
    cost_centre varchar, monthly_cost decimal(38, 18), currency varchar, start_date date, end_date date);
create table if not exists allocations (load_id varchar, row_number bigint, month varchar, person varchar,
    model_id varchar, percent decimal(38, 9));
create table if not exists source_rows (load_id varchar, row_number bigint, record json);
"""


def detect(header: list[str]) -> str | None:
    columns = {c.strip() for c in header}
    if {n for n, c in PEOPLE.items() if c.required} <= columns:
        return "hr-people-csv"
    if {n for n, c in ALLOCATIONS.items() if c.required} <= columns:
        return "hr-allocations-csv"
    return None


def pseudonym_key() -> bytes:
    key = os.environ.get(KEY_ENV, "")
    if len(key) < 16:
        raise CostLedgerError(
            f"labor files need a pseudonymisation key: set {KEY_ENV} to a secret of at least 16 characters "
            "(it is never stored; the same key must be used on every run)"
        )
    return key.encode()


def pseudonymise(expr: pl.Expr, key: bytes) -> pl.Expr:
    return expr.map_elements(
        lambda v: "p_" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16], return_dtype=pl.String
    )


def read(path: Path, *, model_ids: list[str], key: bytes) -> Parsed:
    frame = read_csv_text(path)
    fmt = detect(frame.columns)
    schema = PEOPLE if fmt == "hr-people-csv" else ALLOCATIONS
    rows, rejects = coerce(frame, schema, path=path)
    extra: list[pl.DataFrame] = []
    if fmt == "hr-people-csv":
        rows, bad = reject(rows, pl.col("monthly_cost") < 0, column="monthly_cost", reason="expected a monthly cost of 0 or more")
        extra.append(bad)
        rows = rows.with_columns(pl.col("currency").str.to_uppercase())
    else:
        rows, bad_month = reject(rows, ~pl.col("month").str.contains(r"^\d{4}-\d{2}$"), column="month", reason="expected a month like 2026-01")
        rows, bad_pct = reject(rows, (pl.col("percent") < 0) | (pl.col("percent") > 100), column="percent", reason="expected a percent from 0 to 100")
        rows, bad_model = reject(rows, ~pl.col("model_id").is_in(model_ids), column="model_id", reason="expected a model registered in costledger.toml")
        extra += [bad_month, bad_pct, bad_model]
    rejects = pl.concat([rejects, *extra])
    if rejects.height:
        first = rejects.sort(ROW).row(0, named=True)
        # HR files are all-or-nothing: a partial allocation would misstate everyone's cost.
        raise InputError(f"{first['reason']} (got {first['value']!r}); nothing of this file was loaded", path=path, row=first[ROW], column=first["column"])
    rows = rows.with_columns(pseudonymise(pl.col("person_id"), key).alias("person")).drop("person_id")
    if fmt == "hr-allocations-csv":
        over = rows.group_by("month", "person").agg(pl.col("percent").sum()).filter(pl.col("percent") > 100)
        if over.height:
            worst = over.sort("month", "person").row(0, named=True)
            raise InputError(
                f"person {worst['person']} is allocated {worst['percent'].normalize()}% in {worst['month']}; at most 100% is allowed; nothing of this file was loaded",
                path=path,
                column="percent",
            )
    return Parsed(format=fmt, raw=raw_records(frame), rows=rows, rejects=rejects)


def open_restricted(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    con = duckdb.connect(str(path))
    os.chmod(path, 0o600)
    con.execute(_RESTRICTED_DDL)
    return con


def store(con: duckdb.DuckDBPyConnection, load_id: str, parsed: Parsed, superseded: list[str]) -> None:
    """Keep the HR rows in the restricted database, replacing earlier versions of the same file."""
    table = "people" if parsed.format == "hr-people-csv" else "allocations"
    con.execute("begin transaction")
    for old in superseded:
        con.execute(f"delete from {table} where load_id = ?", [old])
    frame = parsed.rows.with_columns(pl.lit(load_id).alias("load_id")).rename({ROW: "row_number"})
    con.register("incoming", frame.to_arrow())
    columns = ", ".join(["load_id", "row_number", *[c for c in frame.columns if c not in ("load_id", "row_number")]])
    con.execute(f"insert into {table} ({columns}) select {columns} from incoming")
    con.unregister("incoming")
    raw = parsed.raw.with_columns(pl.lit(load_id).alias("load_id"))
    con.register("incoming_raw", raw.to_arrow())
    con.execute("insert into source_rows select load_id, row_number, record from incoming_raw")
    con.unregister("incoming_raw")
    con.execute("commit")


def aggregate(con: duckdb.DuckDBPyConnection, *, k: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(staging.labor rows, staging.labor_totals rows) from the restricted tables."""
    people = con.sql("select person, role, monthly_cost, currency, start_date, end_date from people").pl()
    allocations = con.sql("select month, person, model_id, percent from allocations").pl()
    empty = (
        pl.DataFrame(schema={"month": pl.String, "model_id": pl.String, "role": pl.String, "headcount": pl.Int32, "cost": MONEY, "currency": pl.String, "person_days": pl.Decimal(38, 9)}),
        pl.DataFrame(schema={"month": pl.String, "currency": pl.String, "headcount": pl.Int32, "cost": MONEY}),
    )
    if people.is_empty() or allocations.is_empty():
        return empty
    months = allocations.select(pl.col("month").unique())
    month_start = pl.col("month").str.to_date("%Y-%m")
    paid = (
        people.join(months, how="cross")
        .filter(
            (pl.col("start_date").is_null() | (pl.col("start_date") <= month_start.dt.month_end()))
            & (pl.col("end_date").is_null() | (pl.col("end_date") >= month_start))
        )
    )
    totals = paid.group_by("month", "currency").agg(pl.len().cast(pl.Int32).alias("headcount"), pl.col("monthly_cost").sum().alias("cost"))
    # basis points so the weights are integers: 37.5% -> 3750
    shares = allocations.with_columns((pl.col("percent") * 100).cast(pl.Int64).alias("w")).select("month", "person", "model_id", "w")
    rest = shares.group_by("month", "person").agg((10_000 - pl.col("w").sum()).alias("w"))
    parts = (
        paid.select("month", "person", "role", "monthly_cost", "currency")
        .join(pl.concat([shares, rest.with_columns(pl.lit(Bucket.UNALLOCATED.value).alias("model_id")).select(shares.columns)]), on=["month", "person"], how="left")
        .with_columns(pl.col("model_id").fill_null(Bucket.UNALLOCATED.value), pl.col("w").fill_null(10_000))
        .filter(pl.col("w") > 0)
    )
    split = split_exact(parts.lazy(), group=["month", "person"], key=["model_id"], weight="w", amounts=["monthly_cost"]).collect()
    groups = split.group_by("month", "model_id", "role", "currency").agg(
        pl.col("person").n_unique().cast(pl.Int32).alias("headcount"),
        pl.col("monthly_cost").sum().alias("cost"),
        pl.col("w").sum().alias("w"),
    )
    merged = groups.with_columns(pl.when(pl.col("headcount") >= k).then(pl.col("role")).otherwise(pl.lit(OTHER_ROLES)).alias("role"))
    labor = merged.group_by("month", "model_id", "role", "currency").agg(
        pl.col("headcount").sum(), pl.col("cost").sum(), pl.col("w").sum()
    )
    labor = labor.with_columns(_person_days(pl.col("month"), pl.col("w")).alias("person_days")).drop("w")
    return labor.sort("month", "model_id", "role"), totals.sort("month", "currency")


def _person_days(month: pl.Expr, basis_points: pl.Expr) -> pl.Expr:
    """Allocated working days (Mon-Fri) = share x working days in the month, for display."""
    start = month.str.to_date("%Y-%m")
    days = pl.business_day_count(start, start.dt.month_end().dt.offset_by("1d"))
    return (basis_points.cast(pl.Decimal(38, 9)) * days.cast(pl.Decimal(38, 9)) / pl.lit(10_000).cast(pl.Decimal(38, 9))).cast(pl.Decimal(38, 9))
