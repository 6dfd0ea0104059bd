"""Billing rows -> ledger parts. Allocation, in order:

1. A commitment purchase (ChargeCategory Purchase with a CommitmentDiscountId) is billed cost the
   amortised usage rows already carry as effective cost: it stays in __shared__.
2. A node of a declared GPU pool: its cost is split by GPU-time held (gpu.py); the rest __idle__.
3. A tag key from `attribution.tag_keys` naming a registered model: direct.
4. An attribution rule on account, subscription, project or resource: direct.
5. A declared shared pool (support, tax, ...): distributed by its policy.
6. Anything else: __unallocated__, with the reason.
Then a row whose charge period spans several days is spread over them by seconds.

The build runs these steps as SQL in the warehouse (pipeline/ledger/build.py; the queries are
sql/ledger/passes/billing_*.sql, gpu_*.sql and shared_pool_*.sql). `billing_parts` runs the same
build on a few rows in a scratch in-memory warehouse, for tests and small examples."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.config import Config

_SCRATCH_AS_OF = date(2000, 1, 1)  # no milestones in a scratch warehouse: the day does not matter


def billing_parts(
    rows: pl.DataFrame, samples: pl.DataFrame, config: Config, rules: tuple[dict[str, str], ...]
) -> pl.DataFrame:
    """The ledger rows a build makes of these billing rows (staging.billing columns; one period)
    and GPU samples (staging.gpu_samples columns), under `config` and the category rules `rules`:
    amounts in source and reporting currency, one row per part and day."""
    if rows.is_empty():
        return warehouse_frame(None)
    from pipeline.ledger import build

    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        warehouse.create_schema(con)
        _fill(con, "staging.billing", rows, defaults={"load_id": "billing", "row_number": None})
        if samples.height:
            _fill(con, "staging.gpu_samples", samples, defaults={"load_id": "samples", "row_number": 0})
        periods = sorted(set(rows.get_column("x_BillingPeriod").to_list()))
        for period in periods:
            build.build_candidate(con, config, period, as_of=_SCRATCH_AS_OF, rules=rules)
        return warehouse_frame(con)
    finally:
        con.close()


def warehouse_frame(con: duckdb.DuckDBPyConnection | None) -> pl.DataFrame:
    """The candidate's billing rows (an empty frame of its columns without a connection)."""
    if con is None:
        scratch = duckdb.connect()
        try:
            warehouse.create_schema(scratch)
            return scratch.sql("select * exclude (row_hash) from ledger.cost_ledger_candidate limit 0").pl()
        finally:
            scratch.close()
    return con.sql(
        "select * exclude (row_hash) from ledger.cost_ledger_candidate where source = 'billing' "
        "order by source_ref, lineage_id"
    ).pl()


def _fill(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, *, defaults: dict[str, object]) -> None:
    """Replace `table` by a copy without constraints holding `frame` (missing columns null, or
    `defaults`; a row_number default of None numbers the rows from 1)."""
    con.execute(f"create or replace table {table} as select * from {table} limit 0")
    filled = frame
    for column, value in defaults.items():
        if column not in filled.columns:
            filled = (
                filled.with_row_index(column, offset=1)
                if value is None
                else filled.with_columns(pl.lit(value).alias(column))
            )
    con.register("_frame", filled.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from _frame")
    finally:
        con.unregister("_frame")
