"""The SQL side of validation: the frame each suite runs on, computed in DuckDB for one period.

Every frame is a query of `sql/checks/` bound to `$period`: the candidate ledger's rows (a sample
plus every row a fail rule flags), the billing and labor conservation checks, the loads' balance,
the staged billing, the invoices and the marts (each mart's view query, read from `sql/marts/`,
narrowed to the period's candidate). Money is compared exactly here, on DECIMAL columns, and
handed to Great Expectations as booleans beside the difference as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline.columns import ROW_HASH, Bucket
from pipeline.errors import ConfigError
from pipeline.warehouse import SQL_DIR, fill, first_row, sql_text

if TYPE_CHECKING:
    import pandas as pd


def day_checked(day: str, days: str = "days") -> str:
    """The condition that a row of `day` (a date expression) is on a day checked: one of the
    bound list `$<days>` (`days` or `gpu_days`), which is null for every day. A row of no day is
    always checked."""
    return f"(${days}::date[] is null or {day} is null or list_contains(${days}::date[], {day}))"


# What $charge_date_checked in the check SQL stands for: the row's charge_date is one of $days.
CHARGE_DATE_CHECKED = day_checked("charge_date")


def samples_checked(days: str = "days") -> str:
    """The condition that a GPU sample (staging.gpu_samples, time `ts`) is of the period and on a
    day checked (`$<days>`, null for every day). The first and last day checked bound `ts` as well:
    a range DuckDB can skip row groups with, where the list alone makes it read every sample. No
    day checked (an empty list) is an empty range: no sample is read."""
    start = "cast($period || '-01' as timestamp)"
    end = f"{start} + interval 1 month"
    listed = f"${days}::date[]"
    return (
        f"ts >= case when {listed} is null then {start} else coalesce(list_min({listed})::timestamp, {end}) end "
        f"and ts < case when {listed} is null then {end} "
        f"else coalesce(list_max({listed})::timestamp + interval 1 day, {start}) end "
        f"and ts >= {start} and ts < {start} + interval 1 month "
        f"and {day_checked('ts::date', days)}"
    )


LEDGER_ROWS_SQL = fill(sql_text("checks", "ledger_rows"), charge_date_checked=CHARGE_DATE_CHECKED)
LEDGER_SAMPLE_ROWS = 50_000

BILLING_CONSERVATION_SQL = sql_text("checks", "billing_conservation")

LABOR_CANDIDATE_SQL = sql_text("checks", "labor_candidate")

LABOR_CONSERVATION_SQL = sql_text("checks", "labor_conservation")

LABOR_PRIVACY_SQL = sql_text("checks", "labor_privacy")

LOAD_BALANCE_SQL = sql_text("checks", "load_balance")

STAGING_BILLING_SQL = sql_text("checks", "staging_billing")

INVOICE_RECONCILIATION_SQL = sql_text("checks", "invoice_reconciliation")

MARTS_SQL = fill(sql_text("checks", "mart_rules"), charge_date_checked=CHARGE_DATE_CHECKED)

MARTS_DIR = SQL_DIR / "marts"
_MART_VIEW = re.compile(r"create or replace view marts\.(\w+) as\s*(.*?);\s*comment on view", re.DOTALL)
# What a mart reads, narrowed for validation: the period's candidate stands for the published
# ledger (exactly the rows publish will swap in), and only the period's GPU samples are scanned.
_PERIOD_INPUTS: Mapping[str, str] = {
    r"\bledger\.cost_ledger\b": (
        "(select * exclude (row_hash) from ledger.cost_ledger_candidate where billing_period = $period)"
    ),
    r"\bstaging\.gpu_samples\b": (
        "(select * from staging.gpu_samples where ts >= cast($period || '-01' as timestamp) "
        "and ts < cast($period || '-01' as timestamp) + interval 1 month)"
    ),
}
# The marts narrowed further to the days checked, null for every day: $days, the days whose rows
# changed; $gpu_days for marts.gpu_efficiency, the days whose GPU time or samples changed. The
# marts of one row per day (and more): their rows of the other days are as they were when last
# validated. The monthly marts, whose money the checks only add up (mart_rules.sql): the other
# days' rows added up to the candidate's when last validated, and have not changed since.
DAY_GRAIN_MARTS: Mapping[str, str] = {
    "daily_model_cost": "days",
    "daily_team_cost": "days",
    "unit_costs": "days",
    "gpu_efficiency": "gpu_days",
    "invoice_ledger_days": "days",
    "monthly_model_cost": "days",
    "monthly_team_cost": "days",
    "monthly_unit_costs": "days",
    "idle_unallocated": "days",
}


def _day_inputs(days: str) -> Mapping[str, str]:
    return {
        r"\bledger\.cost_ledger\b": (
            "(select * exclude (row_hash) from ledger.cost_ledger_candidate where billing_period = $period "
            f"and {day_checked('charge_date', days)})"
        ),
        r"\bstaging\.gpu_samples\b": f"(select * from staging.gpu_samples where {samples_checked(days)})",
    }


def mart_query(
    name: str, directory: Path | None = None, *, kept: frozenset[str] = frozenset(), every_day: bool = False
) -> str:
    """The query of the view marts.<name> (sql/marts/<name>.sql), reading the period's candidate
    (a mart of DAY_GRAIN_MARTS: its days checked, unless `every_day`); another mart it reads is read as
    mart_rows gives it, every day of it."""
    path = (MARTS_DIR if directory is None else directory) / f"{name}.sql"
    found = _MART_VIEW.search(path.read_text())
    if found is None or found.group(1) != name:
        raise ConfigError(f"{path}: expected 'create or replace view marts.{name} as <query>;' then its comments")
    query = found.group(2)
    inputs = _day_inputs(DAY_GRAIN_MARTS[name]) if name in DAY_GRAIN_MARTS and not every_day else _PERIOD_INPUTS
    for table, narrowed in inputs.items():
        query = re.sub(table, narrowed, query)
    return re.sub(
        r"\bmarts\.(\w+)\b", lambda m: f"({mart_rows(m.group(1), directory, kept=kept, every_day=True)})", query
    )


def mart_rows(
    name: str, directory: Path | None = None, *, kept: frozenset[str] = frozenset(), every_day: bool = False
) -> str:
    """A query of mart `name`'s rows for the period: its own (mart_query), or, for a mart in
    `kept`, its rows already computed (the temporary table _mart_<name>: keep_marts)."""
    return (
        f"select * from _mart_{name}" if name in kept else mart_query(name, directory, kept=kept, every_day=every_day)
    )


def marts_sql(directory: Path | None = None, *, query: str = MARTS_SQL, kept: frozenset[str] = frozenset()) -> str:
    """`query` (the marts' rules) with each $mart_<name> replaced by that mart's rows (mart_rows)."""
    return re.sub(r"\$mart_(\w+)\b", lambda m: mart_rows(m.group(1), directory, kept=kept), query)


# What validation computes once per period (keep_marts): the invoice reconciliation, which both the
# marts' rules and its own frame read, and the two marts it adds up: invoice_ledger_days (the
# ledger's side) and billing_load_totals (the bill's, which the billing conservation frame reads
# too); and commitment_load_totals, which the commitments mart adds up.
KEPT_MARTS = ("billing_load_totals", "commitment_load_totals", "invoice_ledger_days", "invoice_reconciliation")
# The marts of per-file totals (each row adds up charges of one file version) -> the table a
# validation that passes keeps their rows in, for the next one (keep_marts, record_kept_marts).
LOAD_TOTALS: Mapping[str, str] = {
    "billing_load_totals": "meta.validated_billing_totals",
    "commitment_load_totals": "meta.validated_commitment_totals",
}

BILLING_LOADS_SQL = sql_text("checks", "billing_loads")

BILLING_LOADS_GONE_SQL = sql_text("checks", "billing_loads_gone")

INVOICE_DAYS_KEPT_SQL = sql_text("checks", "invoice_days_kept")

LOAD_TOTALS_KEPT_SQL = sql_text("checks", "load_totals_kept")


def keep_marts(con: duckdb.DuckDBPyConnection, period: str, scope: Scope | None = None) -> frozenset[str]:
    """Compute the KEPT_MARTS once for `period` into temporary tables _mart_<name> on `con`, and
    return their names, for frame_data's `kept` (drop_marts removes the tables).

    The invoice_ledger_days rows (the ledger's billing rows traced to their charges, the costly
    join) are taken from the last validation that passed (meta.validated_invoice_days) for every
    day but those `scope` checks again, unless a file's staged billing rows went since
    (meta.validated_billing_loads): then, or for every day (scope.days None), they are traced
    again. The rows of the LOAD_TOTALS marts (the bill's totals per file) are likewise taken from the
    last validation that passed for each file with as many staged rows of the period as then, and
    added up again for the others (every file for every day checked). record_kept_marts keeps them
    when this validation passes."""
    con.execute(f"create or replace temp table _billing_loads as {BILLING_LOADS_SQL}", {"period": period})
    reuse = scope is not None and scope.days is not None  # a full check adds up every file again
    for name, table in LOAD_TOTALS.items():
        _keep_load_totals(con, name, table, period=period, reuse=reuse)
    days = None if scope is None else scope.days
    if days is not None:
        ((gone,),) = con.execute(BILLING_LOADS_GONE_SQL, {"period": period}).fetchall()
        days = None if gone else days
    traced = mart_query("invoice_ledger_days")
    query = traced if days is None else f"{INVOICE_DAYS_KEPT_SQL}\nunion all\nselect * from ({traced})"
    con.execute(f"create or replace temp table _mart_invoice_ledger_days as {query}", {"period": period, "days": days})
    reconciliation = mart_query(
        "invoice_reconciliation", kept=frozenset({"billing_load_totals", "invoice_ledger_days"})
    )
    con.execute(
        f"create or replace temp table _mart_invoice_reconciliation as {reconciliation}",
        named(reconciliation, period=period),  # none when it reads only the kept rows and every bill
    )
    return frozenset(KEPT_MARTS)


def _keep_load_totals(con: duckdb.DuckDBPyConnection, name: str, table: str, *, period: str, reuse: bool) -> None:
    """The period's rows of mart `name` (one of LOAD_TOTALS, kept in `table`) into the temporary
    table _mart_<name>: each file's kept rows where it still has as many staged rows (and `reuse`),
    the other files' added up again."""
    con.execute(
        f"create or replace temp table _mart_{name} as {fill(LOAD_TOTALS_KEPT_SQL, kept=table)}",
        {"period": period, "reuse": reuse},
    )
    again = [
        load_id
        for (load_id,) in con.execute(
            f"select load_id from _billing_loads where load_id not in (select load_id from _mart_{name})"
        ).fetchall()
    ]
    if again:  # the files' own rows only: a filter on the mart's grouping columns reaches the scan
        con.execute(
            f"insert into _mart_{name} by name select * from ({mart_query(name)}) "
            "where billing_period = $period and load_id in (select unnest($loads::varchar[]))",
            {"period": period, "loads": again},
        )


def record_kept_marts(con: duckdb.DuckDBPyConnection, period: str) -> None:
    """Keep the period's invoice_ledger_days rows, its files' staged billing row counts and their
    rows of the LOAD_TOTALS marts, as keep_marts computed them, for the next validation (inside the
    caller's transaction)."""
    for name, table in LOAD_TOTALS.items():
        con.execute(f"delete from {table} where billing_period = ?", [period])
        con.execute(f"insert into {table} by name select * from _mart_{name}")
    con.execute("delete from meta.validated_invoice_days where billing_period = ?", [period])
    con.execute("insert into meta.validated_invoice_days by name select * from _mart_invoice_ledger_days")
    con.execute("delete from meta.validated_billing_loads where billing_period = ?", [period])
    con.execute(
        "insert into meta.validated_billing_loads by name select ? as billing_period, * from _billing_loads", [period]
    )


def drop_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables keep_marts made."""
    for name in KEPT_MARTS:
        con.execute(f"drop table if exists _mart_{name}")
    con.execute("drop table if exists _billing_loads")


# A load's distinct row numbers, counted as bitmaps: the row numbers go in blocks of 4,096 (BLOCK,
# their high bits), each block's numbers set bits of a bitmap (their low 12 bits), and the bits
# set are added up per load (load_balance.sql's staged_rows). Exact, and twenty times faster than
# hashing every (load, row number) pair: 9.6 M GPU samples in 0.08 s against 0.9 s. A block's
# bitmap is 512 bytes, so the memory follows the rows, however many loads there are.
BLOCK = "row_number >> 12"
DISTINCT_IN_BLOCK = "coalesce(bit_count(bitstring_agg((row_number & 4095)::bigint, 0, 4095)), 0)"


def load_balance_sql(con: duckdb.DuckDBPyConnection) -> str:
    """LOAD_BALANCE_SQL over every staging table that keeps load_id and row_number."""
    tables = con.execute(sql_text("checks", "staging_load_tables")).fetchall()
    # each branch reads only the files checked (`loads`): a filter here, not after the union
    checked = "where load_id in (select load_id from loads)"
    staged = "\n    union all\n    ".join(f'select load_id, row_number from staging."{t}" {checked}' for (t,) in tables)
    counts = "\n    union all\n    ".join(
        f'select load_id, {DISTINCT_IN_BLOCK} as rows from staging."{t}" {checked} group by load_id, {BLOCK}'
        for (t,) in tables
    )
    return fill(
        LOAD_BALANCE_SQL,
        gpu_samples_checked=samples_checked("gpu_days"),
        staged=staged or "select null::varchar as load_id, null::bigint as row_number",
        staged_counts=counts or "select null::varchar as load_id, 0 as rows",
    )


# Frame name (a suite's meta.frame) -> its query. Every query binds $period; extra bound values
# come from FRAME_PARAMETERS.
FRAMES: Mapping[str, str] = {
    "ledger_rows": LEDGER_ROWS_SQL,
    "billing_conservation": BILLING_CONSERVATION_SQL,
    "labor_conservation": LABOR_CONSERVATION_SQL,
    "labor_privacy": LABOR_PRIVACY_SQL,
    "load_balance": LOAD_BALANCE_SQL,
    "staging_billing": STAGING_BILLING_SQL,
    "invoice_reconciliation": INVOICE_RECONCILIATION_SQL,
    "marts": MARTS_SQL,
}
FRAME_PARAMETERS: Mapping[str, Mapping[str, str]] = {
    "ledger_rows": {"unallocated": Bucket.UNALLOCATED.value},
}

DELETE_RESULTS_SQL = sql_text("checks", "delete_results")

DAY_DIGESTS_SQL = fill(sql_text("checks", "day_digests"), row_hash=ROW_HASH)

VALIDATION_BASIS_SQL = sql_text("checks", "validation_basis")

INSERT_RESULT_SQL = sql_text("checks", "record_result")


@dataclass(frozen=True)
class Scope:
    """What a validation checks again: `days`, the days whose rows changed since the period was
    last validated (None: every day); `gpu_days`, those of them whose GPU time or samples changed
    (marts.gpu_efficiency's inputs); `since`, when that validation was (loads since then have their
    balance checked; None: every load); `source_days`, the days whose delivered rows changed (the
    files behind them have their balance checked; None: every day's)."""

    days: list[date] | None = None
    gpu_days: list[date] | None = None
    since: datetime | None = None
    source_days: list[date] | None = None


EVERYTHING = Scope()


def frame_data(
    con: duckdb.DuckDBPyConnection,
    frame: str,
    *,
    period: str,
    suspect: tuple[str, Mapping[str, Any]] = ("false", {}),
    restricted: Path | None = None,
    scope: Scope = EVERYTHING,
    kept: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The frame a suite runs on, computed in DuckDB for one period, as pandas. `suspect`: for
    ledger_rows, the condition (and its bound values) of the rows kept beyond the sample;
    `scope`: the days and loads to check (the ledger rows, DAY_GRAIN_MARTS, the loads' balance);
    `kept`: the marts already computed for the period (keep_marts)."""
    if frame == "labor_conservation":
        return labor_conservation_frame(con, period=period, restricted=restricted)
    parameters: dict[str, Any] = {"period": period, **FRAME_PARAMETERS.get(frame, {})}
    builders = {
        "load_balance": lambda: load_balance_sql(con),
        "marts": lambda: marts_sql(kept=kept),
        "invoice_reconciliation": lambda: marts_sql(query=INVOICE_RECONCILIATION_SQL, kept=kept),
        "billing_conservation": lambda: marts_sql(query=BILLING_CONSERVATION_SQL, kept=kept),
    }
    query = builders[frame]() if frame in builders else FRAMES[frame]
    if frame == "ledger_rows":
        condition, values = suspect
        query = fill(query, suspect=condition)
        parameters |= {"sample": LEDGER_SAMPLE_ROWS, **values}
    parameters |= named(
        query, days=scope.days, gpu_days=scope.gpu_days, source_days=scope.source_days, since=scope.since
    )
    return as_pandas(con.sql(query, params=parameters))


def as_pandas(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A query's rows as pandas, through Arrow: a 42,000-row sample of ledger rows converts in a
    third of the time DuckDB's own conversion (`.df()`) takes, with the same dtypes (dates as
    datetime64). Money reaches a frame already cast to double, as the suites compare it."""
    return relation.to_arrow_table().to_pandas(date_as_object=False)


def named(query: str, **values: Any) -> dict[str, Any]:
    """The `values` whose $name `query` binds (DuckDB refuses a value a query does not name)."""
    return {name: value for name, value in values.items() if re.search(rf"\${name}\b", query)}


def labor_conservation_frame(
    con: duckdb.DuckDBPyConnection, *, period: str, restricted: Path | None = None
) -> pd.DataFrame:
    """LABOR_CONSERVATION_SQL, run in the restricted HR database (read-only) on the candidate's
    labor totals; without one (no HR file ever loaded), against no HR cost at all."""
    candidate = con.sql(LABOR_CANDIDATE_SQL, params={"period": period}).to_arrow_table()
    path = restricted if restricted is not None else _restricted_beside(con)
    hr = duckdb.connect(str(path), read_only=True) if path is not None and path.exists() else duckdb.connect()
    try:
        hr.execute("set enable_progress_bar = false")
        if not hr.execute("select 1 from duckdb_tables() where table_name = 'labor_variance'").fetchall():
            hr.execute(sql_text("checks", "empty_labor_variance"))
        hr.register("candidate_totals", candidate)
        return as_pandas(hr.sql(LABOR_CONSERVATION_SQL, params={"period": period}))
    finally:
        hr.close()


def _restricted_beside(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The workspace's restricted HR database, beside the warehouse file `con` has open."""
    from pipeline.workspace import Workspace

    found = first_row(con, "select path from duckdb_databases() where database_name = current_database()")
    return Workspace(Path(found[0]).parent).restricted if found is not None and found[0] else None
