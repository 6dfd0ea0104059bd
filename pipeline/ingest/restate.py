"""Billing restatements: a later export of the same billing period supersedes the earlier one.

The supersession key is (ProviderName, BillingAccountId, billing period), read from the file's
rows, never from its name. When a billing file is loaded, every staged row of an earlier load
with one of its keys is replaced, inside the load's transaction, unless the earlier load is a
*part* of the same delivery: a file in the same folder (and at a different path) is a part, as
providers split one export into several files in one folder (CUR `part-00001.csv.gz`, ...),
while a new version arrives in a new folder (CUR writes each month's version under a new
assembly id) or at the same path. Files are loaded in path order, so of two versions arriving in
one run the later folder wins.

A superseded load whose rows are all replaced gets status `superseded`; its raw rows stay in
raw.source_rows. Each (key, currency) replaced gets a meta.restatements row with the old and new
totals and the change."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

import duckdb
import polars as pl

KEY = ["ProviderName", "BillingAccountId", "x_BillingPeriod"]


def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


def supersede(con: duckdb.DuckDBPyConnection, load_id: str, relative: str, rows: pl.DataFrame, now: datetime) -> set[str]:
    """Replace earlier rows with this file's keys; return the billing periods touched. Call it
    inside the load's transaction, before the new rows are inserted."""
    if rows.is_empty():
        return set()
    earlier = [
        old for old, path in con.execute(
            "select load_id, path from meta.loads where source = 'billing' and status = 'loaded' and load_id <> ?", [load_id]
        ).fetchall()
        if path == relative or _folder(path) != _folder(relative)
    ]
    if not earlier:
        return set()
    keys = rows.select(KEY).unique()
    new_totals = rows.group_by(*KEY, "BillingCurrency").agg(
        pl.len().alias("new_rows"), pl.col("BilledCost").sum().alias("new_billed"), pl.col("EffectiveCost").sum().alias("new_effective")
    )
    con.register("_restated_keys", keys.to_arrow())
    con.register("_new_totals", new_totals.to_arrow())
    try:
        match = (
            "from staging.billing b join _restated_keys k on b.ProviderName = k.ProviderName "
            "and b.BillingAccountId is not distinct from k.BillingAccountId and b.x_BillingPeriod = k.x_BillingPeriod "
            "where list_contains(?, b.load_id)"
        )
        old = con.execute(
            "select b.ProviderName, b.BillingAccountId, b.x_BillingPeriod, b.BillingCurrency, list(distinct b.load_id order by b.load_id), "
            f"count(*), sum(b.BilledCost), sum(b.EffectiveCost) {match} group by all",
            [earlier],
        ).fetchall()
        if not old:
            return set()
        con.execute(
            """
            insert into meta.restatements
            with old(provider, account, period, currency, loads, old_rows, old_billed, old_effective) as (
                select * from (values """ + ", ".join(["(?, ?, ?, ?, ?::varchar[], ?, ?::decimal(38, 18), ?::decimal(38, 18))"] * len(old)) + """)
            ),
            all_loads as (select list(distinct l) as loads from old, unnest(old.loads) as u(l)),
            final as (
                select
                    ?::timestamp as restated_at, ? as new_load_id, coalesce(old.loads, (select loads from all_loads)) as old_load_ids,
                    coalesce(old.provider, n.ProviderName) as provider, coalesce(old.account, n.BillingAccountId) as billing_account_id,
                    coalesce(old.period, n.x_BillingPeriod) as billing_period, coalesce(old.currency, n.BillingCurrency) as currency,
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
                    select 1 from old o where o.provider = n.ProviderName and o.account is not distinct from n.BillingAccountId and o.period = n.x_BillingPeriod
                )
            )
            select * from final
            """,
            [v for row in old for v in row] + [now, load_id],
        )
        con.execute(
            "delete from staging.billing b using _restated_keys k where b.ProviderName = k.ProviderName "
            "and b.BillingAccountId is not distinct from k.BillingAccountId and b.x_BillingPeriod = k.x_BillingPeriod "
            "and list_contains(?, b.load_id)",
            [earlier],
        )
    finally:
        con.unregister("_restated_keys")
        con.unregister("_new_totals")
    replaced = sorted({load for row in old for load in row[4]})
    for old_load in replaced:
        if con.execute("select count(*) from staging.billing where load_id = ?", [old_load]).fetchone()[0] == 0:
            con.execute("update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old_load])
    return {row[2] for row in old}
