"""HR inputs: people and their fully loaded cost, monthly allocations to models (percent),
timesheets (hours on projects) with a project-to-model map, and training spend.

Individual rows live only in the restricted database (owner-only file); person ids are replaced
by a keyed hash. What the shared warehouse gets is built from them by
pipeline.ingest.labor_standard: labor at standard rates, in cells of at least k people.

Rules, in order:
1. Fully loaded monthly cost = monthly_cost, or monthly_salary + benefits + employer_taxes.
2. A person who joins or leaves mid-month costs the working days employed: the monthly cost is
   split evenly and exactly over the month's working days and the employed days are summed.
3. Shares: the person's percent allocations for the month (the rest is __unallocated__); with
   none, the hours of their timesheets on projects mapped to models (unmapped hours are
   __unallocated__); with neither, all of it is __unallocated__.
4. Training spend is the person's actual cost (part of the HR total); spend booked to a cost
   centre is split evenly over the people in it that month."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.columns import Bucket
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.checks import whole_file
from pipeline.ingest.parse import ROW, Col, Kind, Parsed, coerce, raw_records, read_csv_text, reject
from pipeline.ledger.frame import month_days, working_days
from pipeline.money import MONEY, QUANTUM, split_exact

KEY_ENV = "COSTLEDGER_PSEUDONYM_KEY"

PEOPLE: dict[str, Col] = {
    "person_id": Col(Kind.TEXT, True),
    "role": Col(Kind.TEXT, True),
    "cost_centre": Col(Kind.TEXT),
    "monthly_cost": Col(Kind.MONEY),
    "monthly_salary": Col(Kind.MONEY),
    "benefits": Col(Kind.MONEY),
    "employer_taxes": Col(Kind.MONEY),
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
TIMESHEETS: dict[str, Col] = {
    "date": Col(Kind.DATE, True),
    "person_id": Col(Kind.TEXT, True),
    "project": Col(Kind.TEXT, True),
    "task": Col(Kind.TEXT),
    "hours": Col(Kind.DECIMAL, True),
    "cost_rate": Col(Kind.MONEY),
    "cost_amount": Col(Kind.MONEY),
    "currency": Col(Kind.TEXT),
}
PROJECTS: dict[str, Col] = {"project": Col(Kind.TEXT, True), "model_id": Col(Kind.TEXT, True)}
TRAINING: dict[str, Col] = {
    "date": Col(Kind.DATE, True),
    "person_id": Col(Kind.TEXT),
    "cost_centre": Col(Kind.TEXT),
    "amount": Col(Kind.MONEY, True),
    "currency": Col(Kind.TEXT, True),
    "description": Col(Kind.TEXT),
}
# format -> (schema, restricted table); the first whose required columns the header has wins
FORMATS: dict[str, tuple[dict[str, Col], str]] = {
    "hr-people-csv": (PEOPLE, "people"),
    "hr-allocations-csv": (ALLOCATIONS, "allocations"),
    "hr-timesheets-csv": (TIMESHEETS, "timesheets"),
    "hr-training-csv": (TRAINING, "training"),
    "hr-projects-csv": (PROJECTS, "projects"),
}
# The restricted HR database's tables: one file per table in sql/restricted/ (never in the shared
# warehouse).
RESTRICTED_SQL = warehouse.SQL_DIR / "restricted"


def detect(header: list[str]) -> str | None:
    columns = {c.strip() for c in header}
    if {"person_id", "role", "currency"} <= columns and columns & {"monthly_cost", "monthly_salary"}:
        return "hr-people-csv"
    for fmt, (schema, _) in FORMATS.items():
        if fmt != "hr-people-csv" and {n for n, c in schema.items() if c.required} <= columns:
            return fmt
    return None


def pseudonym_key(path: Path) -> bytes:
    key = os.environ.get(KEY_ENV, "")
    if len(key) < 16:
        raise InputError(
            f"HR rows need a pseudonymisation key: set {KEY_ENV} to a secret of at least 16 characters "
            "(it is never stored; use the same key on every run); nothing of this file was loaded",
            path=path,
            row=1,
        )
    return key.encode()


def _pseudonym(value: str | None, key: bytes) -> str | None:
    return None if value is None else "p_" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


# HR columns whose values are pay or identity: an error message never repeats them.
_WITHHELD = frozenset({"person_id", "monthly_cost", "monthly_salary", "benefits", "employer_taxes", "amount"})


def _fail(rejects: pl.DataFrame, path: Path, raw: pl.DataFrame) -> None:
    """HR files are all-or-nothing: a partial file would misstate everyone's cost. Every row goes
    to meta.quarantine, without its values (they stay in the file)."""
    first = rejects.sort(ROW).row(0, named=True)
    got = "value withheld: HR data" if first["column"] in _WITHHELD else f"got {first['value']!r}"
    error = InputError(
        f"{first['reason']} ({got}); nothing of this file was loaded",
        path=path,
        row=first[ROW],
        column=first["column"],
    )
    error.rejects = whole_file(rejects, raw, because="an HR file loads whole or not at all", withhold_values=True)
    raise error


def read(path: Path, *, config: Config, data: bytes | None = None) -> Parsed:
    frame = read_csv_text(path, data=data)
    fmt = detect(frame.columns)
    if fmt is None:
        raise InputError(f"not an HR file: expected the columns of one of {', '.join(FORMATS)}", path=path)
    schema, _ = FORMATS[fmt]
    rows, rejects = coerce(frame, schema, path=path)
    extra: list[pl.DataFrame] = []
    if fmt == "hr-people-csv":
        rows, people_rejects = _people_rules(rows)
        extra += people_rejects
    elif fmt == "hr-allocations-csv":
        rows, bad_month = reject(
            rows,
            ~pl.col("month").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"),
            column="month",
            reason="expected a month like 2026-01",
        )
        rows, bad_pct = reject(
            rows,
            (pl.col("percent") < 0) | (pl.col("percent") > 100),
            column="percent",
            reason="expected a percent from 0 to 100",
        )
        rows, bad_model = reject(
            rows,
            ~pl.col("model_id").is_in(config.model_ids),
            column="model_id",
            reason="expected a model registered in costledger.toml",
        )
        extra += [bad_month, bad_pct, bad_model]
    elif fmt == "hr-timesheets-csv":
        rows, bad = reject(rows, pl.col("hours") < 0, column="hours", reason="expected 0 or more hours")
        extra.append(bad)
    elif fmt == "hr-projects-csv":
        rows, bad = reject(
            rows,
            ~pl.col("model_id").is_in(config.model_ids),
            column="model_id",
            reason="expected a model registered in costledger.toml",
        )
        extra.append(bad)
    elif fmt == "hr-training-csv":
        rows, bad = reject(
            rows,
            pl.col("person_id").is_null() & pl.col("cost_centre").is_null(),
            column="person_id",
            reason="expected a person_id or a cost_centre",
        )
        rows, negative = reject(rows, pl.col("amount") < 0, column="amount", reason="expected an amount of 0 or more")
        extra += [bad, negative]
    rejects = pl.concat([rejects, *extra])
    if rejects.height:
        _fail(rejects, path, raw_records(frame))
    if "person_id" in rows.columns:
        key = pseudonym_key(path)
        rows = rows.with_columns(
            pl.col("person_id").map_elements(lambda v: _pseudonym(v, key), return_dtype=pl.String).alias("person")
        ).drop("person_id")
    if "currency" in rows.columns:
        rows = rows.with_columns(pl.col("currency").str.to_uppercase())
    if fmt == "hr-allocations-csv":
        _check_at_most_100(rows, path, raw_records(frame))
    return Parsed(format=fmt, raw=raw_records(frame), rows=rows, rejects=rejects)


def _people_rules(rows: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    components = ("monthly_salary", "benefits", "employer_taxes")
    bad = []
    for column in ("monthly_cost", *components):
        rows, negative = reject(
            rows, pl.col(column) < 0, column=column, reason=f"expected a {column.replace('_', ' ')} of 0 or more"
        )
        bad.append(negative)
    rows, missing = reject(
        rows,
        pl.col("monthly_cost").is_null() & pl.col("monthly_salary").is_null(),
        column="monthly_salary",
        reason="expected monthly_salary (plus benefits and employer_taxes) or monthly_cost",
    )
    rows, order = reject(
        rows,
        pl.col("end_date") < pl.col("start_date"),
        column="end_date",
        reason="expected end_date on or after start_date",
    )
    bad += [missing, order]
    loaded = pl.coalesce(
        pl.col("monthly_cost"), pl.sum_horizontal([pl.col(c).fill_null(0) for c in components]).cast(MONEY)
    )
    return rows.with_columns(loaded.alias("monthly_cost")).drop(*components), bad


def _check_at_most_100(rows: pl.DataFrame, path: Path, raw: pl.DataFrame) -> None:
    total = pl.col("percent").sum().over("month", "person")
    over = rows.filter(total > 100).with_columns(total.alias("total")).sort(ROW)
    if over.height:
        worst = over.row(0, named=True)
        error = InputError(
            f"person {worst['person']} is allocated {format(worst['total'].normalize(), 'f')}% in {worst['month']}; "
            "at most 100% is allowed; nothing of this file was loaded",
            path=path,
            row=worst[ROW],
            column="percent",
        )
        # every allocation row of an over-allocated person and month is a bad row
        bad = over.select(
            ROW,
            pl.lit("percent").alias("column"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.format("the person's allocations in {} add up to more than 100%", "month").alias("reason"),
        )
        error.rejects = whole_file(bad, raw, because="an HR file loads whole or not at all", withhold_values=True)
        raise error


def open_restricted(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    con = duckdb.connect(str(path))
    os.chmod(path, 0o600)
    for ddl in sorted(RESTRICTED_SQL.glob("*.sql")):
        con.execute(ddl.read_text())
    return con


def store(con: duckdb.DuckDBPyConnection, load_id: str, parsed: Parsed, superseded: list[str]) -> None:
    """Keep the HR rows in the restricted database, replacing earlier versions of the same file."""
    table = FORMATS[parsed.format][1]
    columns = [c for c in con.sql(f"select * from {table} limit 0").pl().columns]
    frame = parsed.rows.with_columns(pl.lit(load_id).alias("load_id")).rename({ROW: "row_number"})
    frame = frame.select([pl.col(c) if c in frame.columns else pl.lit(None).alias(c) for c in columns])
    con.execute("begin transaction")
    try:
        for old in [*superseded, load_id]:
            con.execute(f"delete from {table} where load_id = ?", [old])
            con.execute("delete from source_rows where load_id = ?", [old])
        con.register("incoming", frame.to_arrow())
        con.execute(f"insert into {table} by name select * from incoming")
        con.unregister("incoming")
        con.register("incoming_raw", parsed.raw.with_columns(pl.lit(load_id).alias("load_id")).to_arrow())
        con.execute("insert into source_rows by name select load_id, row_number, record from incoming_raw")
        con.unregister("incoming_raw")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def forget(con: duckdb.DuckDBPyConnection, load_id: str, fmt: str) -> None:
    """Drop a load's HR rows again (its warehouse transaction failed: it is recorded as rejected)."""
    con.execute(f"delete from {FORMATS[fmt][1]} where load_id = ?", [load_id])
    con.execute("delete from source_rows where load_id = ?", [load_id])


def _employed_cost(monthly: Decimal, days: list[date], start: date | None, end: date | None) -> Decimal:
    """The month's cost split evenly over its working days (first days take the leftover quanta),
    summed over the days employed."""
    if not days:
        return Decimal(0)
    total = int(monthly / QUANTUM)
    base, extra = divmod(total, len(days))
    kept = sum(
        base + (1 if i < extra else 0)
        for i, d in enumerate(days)
        if (start is None or d >= start) and (end is None or d <= end)
    )
    return Decimal(kept) * QUANTUM


def months_with_hr(con: duckdb.DuckDBPyConnection) -> list[str]:
    return sorted(r[0] for r in con.execute(warehouse.sql_text("labor", "months_with_hr")).fetchall())


def paid(con: duckdb.DuckDBPyConnection, config: Config, months: list[str]) -> pl.DataFrame:
    """One row per person and month employed: role, cost centre, currency, prorated pay and the
    working days employed."""
    people = con.sql("select person, role, cost_centre, monthly_cost, currency, start_date, end_date from people").pl()
    records = []
    for month in months:
        days = working_days(month, config)
        first, last = month_days(month)[0], month_days(month)[-1]
        for p in people.iter_rows(named=True):
            if (p["start_date"] and p["start_date"] > last) or (p["end_date"] and p["end_date"] < first):
                continue
            start, end = p["start_date"], p["end_date"]
            employed = sum(1 for d in days if (start is None or d >= start) and (end is None or d <= end))
            records.append(
                {
                    "month": month,
                    "person": p["person"],
                    "role": p["role"],
                    "cost_centre": p["cost_centre"],
                    "currency": p["currency"],
                    "pay": _employed_cost(p["monthly_cost"], days, start, end),
                    "days": employed,
                }
            )
    schema = pl.Schema(
        {
            "month": pl.String(),
            "person": pl.String(),
            "role": pl.String(),
            "cost_centre": pl.String(),
            "currency": pl.String(),
            "pay": MONEY,
            "days": pl.Int64(),
        }
    )
    return pl.DataFrame(records, schema=schema)


def shares(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(month, person, model_id, w): percent allocations in basis points, else timesheet hours in
    hundredths; the rest of a percent allocation is __unallocated__."""
    unallocated = Bucket.UNALLOCATED.value
    return con.sql(warehouse.sql_text("labor", "model_shares"), params={"unallocated": unallocated}).pl()


def training(con: duckdb.DuckDBPyConnection, employed: pl.DataFrame) -> pl.DataFrame:
    """(month, person, currency, amount): personal spend, plus cost-centre spend split evenly."""
    spend = con.sql("select strftime(date, '%Y-%m') as month, person, cost_centre, amount, currency from training").pl()
    personal = spend.filter(pl.col("person").is_not_null()).select("month", "person", "currency", "amount")
    team = spend.filter(pl.col("person").is_null()).with_row_index("_item")
    members = employed.select("month", "cost_centre", "person")
    team = (
        team.drop("person").join(members, on=["month", "cost_centre"], how="inner").with_columns(pl.lit(1).alias("_w"))
    )
    team = split_exact(team.lazy(), group=["_item"], key=["person"], weight="_w", amounts=["amount"]).collect()
    return (
        pl.concat([personal, team.select("month", "person", "currency", "amount")])
        .group_by("month", "person", "currency")
        .agg(pl.col("amount").sum())
    )
