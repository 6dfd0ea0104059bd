"""Billing restatements: a later export of a provider's billing account and period replaces the
earlier one, for exactly those keys; and parts of one export are told apart from versions of it.

The key is (ProviderName, BillingAccountId, billing period), read from the file's rows, never from
its name. When a billing file loads, each earlier loaded file holding rows with one of its keys is
one of two things:

- a *version* of it: its rows with those keys are replaced by the new file's. That is a file at the
  same path (a changed file); a file in another folder (a new delivery: CUR writes each version of
  a month under a new assembly folder); or a file in the same folder of which the new file is
  mostly a copy: more than half of the new file's rows with those keys are charges the earlier
  file holds (a second copy of a bill, or a corrected copy, dropped beside the first);
- a *part* of the same export, kept beside it: any other file in the same folder (providers split
  one export into files in one folder: CUR `part-00001.csv.gz`, ...; parts hold different
  charges), and always a file that a manifest in the folder lists with it (see manifest.py). A
  line of the new part identical in every column, amounts too, to a line of an earlier part is
  quarantined as a duplicate, never loaded twice.

A charge is identified by what was charged, for whom and when (sql/ingest/version_overlap.sql:
provider, accounts, billing and charge period, category, class, frequency, description, service,
SKU and price id, resource, region, commitment, units, currency), not by its amounts,
quantities, invoice id or tags, which a restatement may change. So a copy of a bill with one byte
different replaces the first (the cost is never doubled), and so does a copy with corrected
costs; parts, whose charges differ, add up. A file that repeats only a few charges of another is
a part: its repeated identical lines are quarantined; a repeated charge with other amounts loads,
as a separate charge of that export.

Only the rows with the new file's keys are replaced: a later export covering one provider or
billing account of a multi-provider file restates exactly that account, and the other accounts'
rows stay (the replaced rows are listed in meta.replaced_rows, so the earlier file still
balances). A superseded load whose rows are all replaced gets status `superseded`; raw rows always
stay in raw.source_rows. Each (key, currency) replaced gets a meta.restatements row with the old
and new totals and the change. Files are loaded in path order, so of two versions arriving in one
run the later path wins.

Each load's keys are kept in staging.billing_keys (with its rows per key), changed in the same
transaction as its rows: a new file finds the loads sharing its keys there, not by reading every
row of the period, which cost more with each file of a month delivered day by day.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

import duckdb

from pipeline.warehouse import sql_text

KEY = ["ProviderName", "BillingAccountId", "x_BillingPeriod"]
VERSION_OVERLAP = sql_text("ingest", "version_overlap")
LINES_IN_COMMON = sql_text("ingest", "lines_in_common")
EARLIER_LOADS_SHARING_KEYS = sql_text("ingest", "earlier_loads_sharing_keys")
LOADS_CHARGED_WITHIN = sql_text("ingest", "loads_charged_within")
DUPLICATE_LINES_QUARANTINED = sql_text("ingest", "duplicate_lines_quarantined")
DUPLICATE_LINES_REMOVED = sql_text("ingest", "duplicate_lines_removed")
RESTATED_KEYS = sql_text("ingest", "restated_keys")
NEW_TOTALS = sql_text("ingest", "new_totals")
REPLACED_TOTALS = sql_text("ingest", "replaced_totals")
RESTATEMENTS = sql_text("ingest", "restatements")
REPLACED_ROWS = sql_text("ingest", "replaced_rows")
RESTATED_ROWS_REMOVED = sql_text("ingest", "restated_rows_removed")
RESTATED_KEYS_REMOVED = sql_text("ingest", "restated_keys_removed")
BILLING_KEYS_OF_LOAD = sql_text("ingest", "billing_keys_of_load")
_TEMP_TABLES = ("_restated_keys", "_new_totals", "_old_totals")


def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


def supersede(
    con: duckdb.DuckDBPyConnection, load_id: str, relative: str, now: datetime, *, parts: frozenset[str] = frozenset()
) -> tuple[set[str], int]:
    """Replace earlier versions' rows with this file's keys, and quarantine the lines a part of
    the same export already holds (`parts`: the other files its manifest lists). Call it
    inside the load's transaction, after its rows are in staging.billing: it keeps their keys in
    staging.billing_keys first. Returns the billing periods touched and the number of rows
    quarantined as duplicates.

    However many earlier loads share its keys, it asks the warehouse a fixed number of questions,
    each answered for all of them at once: which they are, which of those beside it hold rows
    within its charge periods' starts (only these can hold its charges), how much of this file
    each of those holds again, and which of its lines the parts hold."""
    keep_keys(con, load_id)
    overlapping = con.execute(EARLIER_LOADS_SHARING_KEYS, {"new": load_id}).fetchall()
    # the loads beside it that can hold a charge or a line of it: the others hold none
    near = _charged_within(con, load_id, [old for old, path, _ in overlapping if _beside(path, relative)])
    unlisted = [old for old, path, _ in overlapping if old in near and path not in parts]
    # per file beside it that no manifest lists with it: the rows of this file whose charge it holds
    held = dict(con.execute(VERSION_OVERLAP, {"new": load_id, "candidates": unlisted}).fetchall()) if unlisted else {}
    versions, siblings = [], []
    for old, path, shared_keys in overlapping:
        if not _beside(path, relative) or held.get(old, 0) * 2 > shared_keys:  # or mostly a copy of it
            versions.append(old)
        else:
            siblings.append(old)
    holding = [old for old in siblings if old in near]
    duplicates = _quarantine_duplicates(con, load_id, relative, holding) if holding else 0
    return (_replace(con, load_id, versions, now) if versions else set()), duplicates


def keep_keys(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Keep in staging.billing_keys the keys of the billing load's rows as they are now in
    staging.billing: after they are inserted, or some of them removed."""
    forget_keys(con, load_id)
    con.execute(BILLING_KEYS_OF_LOAD, {"load": load_id})


def forget_keys(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Forget the kept keys of a billing load whose rows are removed from staging.billing."""
    con.execute("delete from staging.billing_keys where load_id = ?", [load_id])


def _beside(path: str, relative: str) -> bool:
    """True for another file in the new file's folder (a file at the same path is a version)."""
    return path != relative and _folder(path) == _folder(relative)


def _charged_within(con: duckdb.DuckDBPyConnection, load_id: str, loads: list[str]) -> set[str]:
    """The loads of `loads` holding a row whose charge period starts within the first and last
    start of the load's rows (loads_charged_within.sql)."""
    if not loads:
        return set()
    [(first, last)] = con.execute(
        "select min(ChargePeriodStart), max(ChargePeriodStart) from staging.billing where load_id = ?", [load_id]
    ).fetchall()
    if first is None:
        return set()
    found = con.execute(LOADS_CHARGED_WITHIN, {"loads": loads, "first": first, "last": last}).fetchall()
    return {row[0] for row in found}


def _quarantine_duplicates(con: duckdb.DuckDBPyConnection, load_id: str, relative: str, siblings: list[str]) -> int:
    """Move the new load's lines identical to lines of the parts `siblings` to meta.quarantine,
    each naming the first part (in load_id order) holding it."""
    con.execute(
        f"create or replace temp table _lines_in_common as {LINES_IN_COMMON}", {"new": load_id, "siblings": siblings}
    )
    try:
        found = int(con.execute("select count(*) from _lines_in_common").fetchall()[0][0])
        if not found:
            return 0
        con.execute(DUPLICATE_LINES_QUARANTINED, {"new": load_id, "path": relative})
        con.execute(DUPLICATE_LINES_REMOVED, {"new": load_id})
        keep_keys(con, load_id)  # a key all of whose lines were duplicates is no longer the load's
        return found
    finally:
        con.execute("drop table if exists _lines_in_common")


def _replace(con: duckdb.DuckDBPyConnection, load_id: str, earlier: list[str], now: datetime) -> set[str]:
    """Delete the earlier loads' rows with the new load's keys, recording old and new totals."""
    con.execute(RESTATED_KEYS, {"new": load_id})
    con.execute(NEW_TOTALS, {"new": load_id})
    try:
        con.execute(REPLACED_TOTALS, {"earlier": earlier})
        old = con.execute("select * from _old_totals").fetchall()
        if not old:
            return set()
        con.execute(RESTATEMENTS, {"new": load_id, "now": now})
        # rows of versions that keep other accounts: kept as replaced (the load balance counts them)
        con.execute(REPLACED_ROWS, {"new": load_id, "now": now, "earlier": earlier})
        con.execute(RESTATED_ROWS_REMOVED, {"earlier": earlier})
        con.execute(RESTATED_KEYS_REMOVED, {"earlier": earlier})
    finally:
        for table in _TEMP_TABLES:
            con.execute(f"drop table if exists {table}")
    replaced = sorted({load for row in old for load in row[4]})
    for old_load in replaced:
        if con.execute("select count(*) from staging.billing where load_id = ?", [old_load]).fetchall()[0][0] == 0:
            con.execute(
                "update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old_load]
            )
    return {row[2] for row in old}
