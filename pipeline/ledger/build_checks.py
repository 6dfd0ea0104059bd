"""Checks a ledger build runs before it commits: every FX rate it needs is there, and every split
stays within exact 128-bit arithmetic (the billing rows' before it writes them, the other parts'
when they are made). Each failure is an error that says what to do."""

from __future__ import annotations

import duckdb

from pipeline.config import Config
from pipeline.errors import CostLedgerError
from pipeline.ledger.frame import query
from pipeline.money import INT128_MAX
from pipeline.warehouse import fill


def _origin(source: str | None, source_ref: str | None, files: dict[str, str]) -> str:
    """`inbox/<path>, row N` for a source_ref `load_id:row_number`, else the source and its ref."""
    load_id, _, row = (source_ref or "").partition(":")
    if load_id in files:
        return f"inbox/{files[load_id]}, row {row}"
    return f"{source} {source_ref}"


def check_rates(con: duckdb.DuckDBPyConnection, config: Config, period: str, *, others_only: bool = False) -> None:
    """A missing FX rate is an error, never 1.0: it names the first day, currency and the file
    and row that needed it (billing rows first, then _other_parts). `others_only`: _other_parts'
    rows alone (the billing rows were checked before)."""
    found = con.execute(
        query("fx_missing"), {"period": period, "currency": config.reporting_currency, "others_only": others_only}
    ).fetchall()
    if not found:
        return
    currency, day, source, source_ref, days = found[0]
    files = dict(con.execute("select load_id, path from meta.loads").fetchall())
    raise CostLedgerError(
        f"no FX rate from {currency} to {config.reporting_currency} on {day} "
        f"(first needed by {_origin(source, source_ref, files)}; {days} currency-days missing); "
        + _fx_options(con, currency, config.reporting_currency, period)
    )


def _fx_options(con: duckdb.DuckDBPyConnection, missing: str, currency: str, period: str) -> str:
    """What to do about a missing rate: add rates, or, when every billing amount of the period is
    in the one currency that has no rate at all, report in that currency instead."""
    billed_in = {
        row[0]
        for row in con.execute(
            "select distinct BillingCurrency from staging.billing where x_BillingPeriod = ?", [period]
        ).fetchall()
    }
    [(rated,)] = con.execute("select count(*) from staging.fx_rates where currency = ?", [missing]).fetchall()
    if billed_in == {missing} and rated == 0:
        return (
            f"every billing amount is in {missing} and inbox/fx/ has no {missing} rates: either add daily "
            f"{missing} to {currency} rates to inbox/fx/ (columns rate_date, currency, rate), or set "
            f'reporting_currency = "{missing}" in costledger.toml to report in {missing}'
        )
    return "add them to inbox/fx/"


def check_split_bounds(con: duckdb.DuckDBPyConnection, rows: str, totals: str, *, what: str) -> None:
    """Raise a clear error, before a split of the table `rows` runs, if an amount x its weight
    total (or the total x 1e18, for the share) could leave 128 bits (DuckDB would stop with a bare
    HUGEINT overflow; pipeline.money.check_split_bounds is the same bound). `totals`: a query of
    (source_ref, total) per split (split_total_bounds.sql)."""
    found = con.execute(
        fill(query("split_total_bounds"), split_rows=rows, split_totals=totals), {"limit": INT128_MAX}
    ).fetchall()
    if found:
        ref, amount, total = found[0]
        raise CostLedgerError(
            f"{what} {ref}: amount {amount} split by a total weight of {total} is beyond exact 128-bit arithmetic"
        )


def check_row_bounds(con: duckdb.DuckDBPyConnection, *, others_only: bool = False) -> None:
    """The same for the billing rows being routed and the other parts: an amount x the seconds
    its charge period is spread over (split_bounds.sql). `others_only`: the other parts alone."""
    found = con.execute(query("split_bounds"), {"limit": INT128_MAX, "others_only": others_only}).fetchall()
    if found:
        ref, amount, seconds = found[0]
        raise CostLedgerError(f"{ref}: amount {amount} over {seconds} s is beyond exact 128-bit arithmetic")
