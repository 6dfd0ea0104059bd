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
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

import duckdb

from pipeline.warehouse import SQL_DIR

KEY = ["ProviderName", "BillingAccountId", "x_BillingPeriod"]
VERSION_OVERLAP = (SQL_DIR / "ingest" / "version_overlap.sql").read_text()
LINES_IN_COMMON = (SQL_DIR / "ingest" / "lines_in_common.sql").read_text()


def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


def supersede(
    con: duckdb.DuckDBPyConnection, load_id: str, relative: str, now: datetime, *, parts: frozenset[str] = frozenset()
) -> tuple[set[str], int]:
    """Replace earlier versions' rows with this file's keys, and quarantine the lines a part of
    the same export already holds (`parts`: the other files its manifest lists). Call it
    inside the load's transaction, after its rows are in staging.billing. Returns the billing
    periods touched and the number of rows quarantined as duplicates."""
    overlapping = con.execute(
        """
        select b.load_id, any_value(l.path) from staging.billing as b
        inner join meta.loads as l on l.load_id = b.load_id
        semi join (select distinct ProviderName, BillingAccountId, x_BillingPeriod from staging.billing
            where load_id = ?) as k
            on b.ProviderName = k.ProviderName and b.BillingAccountId is not distinct from k.BillingAccountId
            and b.x_BillingPeriod = k.x_BillingPeriod
        where b.load_id <> ? group by b.load_id order by b.load_id
        """,
        [load_id, load_id],
    ).fetchall()
    versions, siblings = [], []
    for old, path in overlapping:
        if path == relative or _folder(path) != _folder(relative):
            versions.append(old)
        elif path not in parts and _mostly_a_copy(con, load_id, old):
            versions.append(old)
        else:
            siblings.append((old, path))
    duplicates = sum(_quarantine_duplicates(con, load_id, relative, old, path) for old, path in siblings)
    return (_replace(con, load_id, versions, now) if versions else set()), duplicates


def _mostly_a_copy(con: duckdb.DuckDBPyConnection, new: str, old: str) -> bool:
    """True when more than half of the new load's rows with keys the old one has are its charges."""
    shared_keys, shared_charges = con.execute(VERSION_OVERLAP, {"new": new, "old": old}).fetchall()[0]
    return shared_charges * 2 > shared_keys


def _quarantine_duplicates(con: duckdb.DuckDBPyConnection, load_id: str, relative: str, old: str, old_path: str) -> int:
    """Move the new load's lines identical to lines of the part `old` to meta.quarantine."""
    params = {"new": load_id, "old": old}
    found = con.execute(f"select count(*) from ({LINES_IN_COMMON})", params).fetchall()[0][0]
    if not found:
        return 0
    con.execute(
        f"""
        insert into meta.quarantine
        select $new, $path, row_number, '(every column)', null,
            'duplicate line: identical in every column to row ' || old_row_number || ' of ' || $old_path
            || ', another part of the same export; loaded once'
        from ({LINES_IN_COMMON})
        """,
        params | {"path": relative, "old_path": old_path},
    )
    con.execute(
        "delete from staging.billing where load_id = $new and row_number in "
        f"(select row_number from ({LINES_IN_COMMON}))",
        params,
    )
    return found


def _replace(con: duckdb.DuckDBPyConnection, load_id: str, earlier: list[str], now: datetime) -> set[str]:
    """Delete the earlier loads' rows with the new load's keys, recording old and new totals."""
    con.execute(
        "create or replace temp table _restated_keys as "
        "select distinct ProviderName, BillingAccountId, x_BillingPeriod from staging.billing where load_id = ?",
        [load_id],
    )
    con.execute(
        "create or replace temp table _new_totals as select ProviderName, BillingAccountId, x_BillingPeriod, "
        "BillingCurrency, "
        "count(*) as new_rows, sum(BilledCost) as new_billed, sum(EffectiveCost) as new_effective "
        "from staging.billing where load_id = ? group by all",
        [load_id],
    )
    try:
        match = (
            "from staging.billing b join _restated_keys k on b.ProviderName = k.ProviderName "
            "and b.BillingAccountId is not distinct from k.BillingAccountId and b.x_BillingPeriod = k.x_BillingPeriod "
            "where list_contains(?, b.load_id)"
        )
        old = con.execute(
            "select b.ProviderName, b.BillingAccountId, b.x_BillingPeriod, b.BillingCurrency, "
            "list(distinct b.load_id order by b.load_id), "
            f"count(*), sum(b.BilledCost), sum(b.EffectiveCost) {match} group by all",
            [earlier],
        ).fetchall()
        if not old:
            return set()
        con.execute(
            """
            insert into meta.restatements
            with old(provider, account, period, currency, loads, old_rows, old_billed, old_effective) as (
                select * from (values """
            + ", ".join(["(?, ?, ?, ?, ?::varchar[], ?, ?::decimal(38, 18), ?::decimal(38, 18))"] * len(old))
            + """)
            ),
            all_loads as (select list(distinct l) as loads from old, unnest(old.loads) as u(l)),
            final as (
                select
                    ?::timestamp as restated_at, ? as new_load_id, coalesce(old.loads, (select loads from all_loads))
                        as old_load_ids,
                    coalesce(old.provider, n.ProviderName) as provider, coalesce(old.account, n.BillingAccountId)
                        as billing_account_id,
                    coalesce(old.period, n.x_BillingPeriod) as billing_period, coalesce(old.currency, n.BillingCurrency)
                        as currency,
                    coalesce(old.old_rows, 0) as old_rows, coalesce(n.new_rows, 0) as new_rows,
                    coalesce(old.old_billed, 0) as old_billed, coalesce(n.new_billed, 0) as new_billed,
                    coalesce(n.new_billed, 0) - coalesce(old.old_billed, 0) as billed_change,
                    coalesce(old.old_effective, 0) as old_effective, coalesce(n.new_effective, 0) as new_effective,
                    coalesce(n.new_effective, 0) - coalesce(old.old_effective, 0) as effective_change
                from old
                full outer join _new_totals n
                    on n.ProviderName = old.provider and n.BillingAccountId is not distinct from old.account
                    and n.x_BillingPeriod = old.period and n.BillingCurrency = old.currency
                where old.period is not null or exists (
                    select 1 from old o
                    where o.provider = n.ProviderName and o.account is not distinct from n.BillingAccountId
                        and o.period = n.x_BillingPeriod
                )
            )
            select * from final
            """,
            [v for row in old for v in row] + [now, load_id],
        )
        con.execute(  # rows of versions that keep other accounts: kept as replaced (the load balance counts them)
            """
            insert into meta.replaced_rows
            select b.load_id, b.row_number, ?, ? from staging.billing as b
            semi join _restated_keys as k on b.ProviderName = k.ProviderName
                and b.BillingAccountId is not distinct from k.BillingAccountId and b.x_BillingPeriod = k.x_BillingPeriod
            where list_contains(?, b.load_id) and b.load_id in (
                select s.load_id from staging.billing as s
                anti join _restated_keys as k on s.ProviderName = k.ProviderName
                    and s.BillingAccountId is not distinct from k.BillingAccountId
                        and s.x_BillingPeriod = k.x_BillingPeriod
                where list_contains(?, s.load_id)
            )
            """,
            [load_id, now, earlier, earlier],
        )
        con.execute(
            "delete from staging.billing b using _restated_keys k where b.ProviderName = k.ProviderName "
            "and b.BillingAccountId is not distinct from k.BillingAccountId and b.x_BillingPeriod = k.x_BillingPeriod "
            "and list_contains(?, b.load_id)",
            [earlier],
        )
    finally:
        con.execute("drop table if exists _restated_keys")
        con.execute("drop table if exists _new_totals")
    replaced = sorted({load for row in old for load in row[4]})
    for old_load in replaced:
        if con.execute("select count(*) from staging.billing where load_id = ?", [old_load]).fetchall()[0][0] == 0:
            con.execute(
                "update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old_load]
            )
    return {row[2] for row in old}
