"""A later export of the same (provider, billing account, billing period) replaces the earlier
one, never adds to it; the earlier rows stay in raw; meta.restatements shows old, new and the
change. Files in one folder are parts of one delivery and do not supersede each other."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from pipeline import run, warehouse
from pipeline.cli import app
from pipeline.workspace import Workspace

HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,"
    "EffectiveCost,BillingCurrency,ProviderName,ServiceName"
)


def _file(ws: Workspace, relative: str, *amounts: str, month: str = "2026-01") -> None:
    path = ws.inbox / "billing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        f"111,{month}-01,{month}-28,{month}-0{i + 1}T00:00:00Z,{month}-0{i + 2}T00:00:00Z,Usage,{a},{a},USD,AWS,Amazon "
        "Elastic Compute Cloud"
        for i, a in enumerate(amounts)
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")


def _ledger_total(ws: Workspace, period: str) -> Decimal:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute(
            "select sum(billed_cost) from ledger.cost_ledger where source = 'billing' and billing_period = ?", [period]
        ).fetchone()[0]


def test_a_restated_month_replaces_never_adds(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _file(ws, "cur/20260201-v1/export.csv", "10.00", "5.00")
    run.run(ws, date=date(2026, 2, 1))
    assert _ledger_total(ws, "2026-01") == Decimal("15.00")  # 10.00 + 5.00
    _file(ws, "cur/20260203-v2/export.csv", "10.00", "7.50")  # AWS rewrote the month
    run.run(ws, date=date(2026, 2, 3))
    assert _ledger_total(ws, "2026-01") == Decimal("17.50")  # 10.00 + 7.50, not 32.50
    with warehouse.connect(ws.warehouse) as con:
        statuses = dict(con.execute("select path, status from meta.loads").fetchall())
        restated = con.execute(
            "select provider, billing_account_id, billing_period, currency, old_rows, new_rows, old_billed, "
            "new_billed, billed_change, effective_change "
            "from meta.restatements"
        ).fetchall()
        old_raw = con.execute(
            "select count(*) from raw.source_rows r join meta.loads l using (load_id) where l.path = "
            "'billing/cur/20260201-v1/export.csv'"
        ).fetchone()[0]
    assert statuses == {
        "billing/cur/20260201-v1/export.csv": "superseded",
        "billing/cur/20260203-v2/export.csv": "loaded",
    }
    # old 15.00, new 17.50: +2.50 billed and effective
    assert restated == [
        ("AWS", "111", "2026-01", "USD", 2, 2, Decimal("15.00"), Decimal("17.50"), Decimal("2.50"), Decimal("2.50"))
    ]
    assert old_raw == 2  # the superseded version stays queryable


def test_parts_in_one_folder_add_up(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _file(ws, "cur/20260201/part-1.csv", "10.00")
    _file(ws, "cur/20260201/part-2.csv", "4.00", "1.00")
    run.run(ws, date=date(2026, 2, 1))
    assert _ledger_total(ws, "2026-01") == Decimal("15.00")  # 10.00 + 4.00 + 1.00: parts, not versions
    with warehouse.connect(ws.warehouse) as con:
        assert con.execute("select count(*) from meta.restatements").fetchone()[0] == 0


def test_a_different_account_or_period_is_not_a_restatement(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _file(ws, "jan/export.csv", "10.00")
    _file(ws, "feb/export.csv", "3.00", month="2026-02")
    run.run(ws, date=date(2026, 2, 20))
    assert _ledger_total(ws, "2026-01") == Decimal("10.00")
    assert _ledger_total(ws, "2026-02") == Decimal("3.00")


def _lines(ws: Workspace, relative: str, *charges: tuple[int, str]) -> None:
    """A billing file of usage lines, one per (day of January 2026, amount)."""
    path = ws.inbox / "billing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        f"111,2026-01-01,2026-01-28,2026-01-{day:02d}T00:00:00Z,2026-01-{day + 1:02d}T00:00:00Z,Usage,{a},{a},USD,AWS,"
        "Amazon Elastic Compute Cloud"
        for day, a in charges
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")


def _loads(ws: Workspace) -> dict[str, tuple]:
    with warehouse.connect(ws.warehouse) as con:
        rows = con.execute(
            "select path, load_id, status, superseded_by, rows_in, rows_loaded, rows_quarantined from meta.loads"
        ).fetchall()
    return {row[0].removeprefix("billing/cur/jan/"): row[1:] for row in rows}


def _quarantined(ws: Workspace) -> list[tuple]:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute("select path, row_number, reason from meta.quarantine order by path, row_number").fetchall()


def _staged(ws: Workspace) -> list[tuple]:
    """(file, day, amount) of every staged billing row."""
    with warehouse.connect(ws.warehouse) as con:
        rows = con.execute(
            "select l.path, day(b.ChargePeriodStart), b.BilledCost from staging.billing as b "
            "join meta.loads as l using (load_id) order by all"
        ).fetchall()
    return [(path.removeprefix("billing/cur/jan/"), day, cost) for path, day, cost in rows]


def _duplicate(row: int, part: str) -> str:
    return (
        f"duplicate line: identical in every column to row {row} of billing/cur/jan/{part}, another part of the "
        "same export; loaded once"
    )


def test_a_part_repeating_lines_of_two_of_three_earlier_parts_loads_the_rest(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _lines(ws, "cur/jan/part-1.csv", (1, "10.00"), (2, "20.00"))
    _lines(ws, "cur/jan/part-2.csv", (3, "30.00"), (4, "40.00"))
    _lines(ws, "cur/jan/part-3.csv", (5, "50.00"), (6, "60.00"))
    # part-4 repeats row 2 of part-1 and row 1 of part-3 exactly; 3 lines of its own. Against each
    # earlier part: 5 of its rows share the key, at most 1 is a charge that part holds (1 * 2 <= 5),
    # so all three are parts, none a version
    _lines(ws, "cur/jan/part-4.csv", (2, "20.00"), (5, "50.00"), (7, "70.00"), (8, "80.00"), (9, "90.00"))
    run.ingest(ws)
    loads = _loads(ws)
    assert {path: row[1:] for path, row in loads.items()} == {
        "part-1.csv": ("loaded", None, 2, 2, 0),
        "part-2.csv": ("loaded", None, 2, 2, 0),
        "part-3.csv": ("loaded", None, 2, 2, 0),
        "part-4.csv": ("loaded", None, 5, 3, 2),  # 5 in = 3 loaded + 2 quarantined
    }
    assert _quarantined(ws) == [
        ("billing/cur/jan/part-4.csv", 1, _duplicate(2, "part-1.csv")),
        ("billing/cur/jan/part-4.csv", 2, _duplicate(1, "part-3.csv")),
    ]
    # 10 + 20 + 30 + 40 + 50 + 60 + 70 + 80 + 90 = 450: every line once
    assert sum(cost for _, _, cost in _staged(ws)) == Decimal("450.00")
    assert [row for row in _staged(ws) if row[0] == "part-4.csv"] == [
        ("part-4.csv", 7, Decimal("70.00")),
        ("part-4.csv", 8, Decimal("80.00")),
        ("part-4.csv", 9, Decimal("90.00")),
    ]


def test_a_line_two_earlier_parts_hold_is_named_after_the_first_in_load_order(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _lines(ws, "cur/jan/part-1.csv", (1, "10.00"), (2, "20.00"))
    _lines(ws, "cur/jan/part-2.csv", (3, "30.00"))
    run.ingest(ws)
    loads = _loads(ws)
    first, second = loads["part-1.csv"][0], loads["part-2.csv"][0]
    # load ids are the files' checksums: here part-2 comes first in load order, part-1 second
    assert second < first
    with warehouse.connect(ws.warehouse) as con:
        # part-2 holds part-1's line for day 2 too, as its row 7 (written here: loading the parts
        # one by one quarantines a repeated line in the later one, so files alone never leave this)
        con.execute(
            "insert into staging.billing select * replace (?::varchar as load_id, 7::bigint as row_number) "
            "from staging.billing where load_id = ? and row_number = 2",
            [second, first],
        )
    _lines(ws, "cur/jan/part-3.csv", (2, "20.00"), (4, "40.00"), (5, "50.00"))
    run.ingest(ws)
    # its day-2 line is named after part-2 (first in load order) and its row 7, not part-1's row 2
    assert _quarantined(ws) == [("billing/cur/jan/part-3.csv", 1, _duplicate(7, "part-2.csv"))]
    assert [row for row in _staged(ws) if row[0] == "part-3.csv"] == [
        ("part-3.csv", 4, Decimal("40.00")),
        ("part-3.csv", 5, Decimal("50.00")),
    ]


def test_a_file_mostly_a_copy_of_one_earlier_file_beside_it_replaces_it_and_keeps_the_other(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _lines(ws, "cur/jan/part-a.csv", (1, "10.00"), (2, "20.00"))
    _lines(ws, "cur/jan/part-b.csv", (3, "30.00"), (4, "40.00"), (5, "50.00"))
    # part-c against part-a: 3 rows share the key, none is a charge part-a holds (0 * 2 <= 3): a
    # part. Against part-b: 3 share the key, the day 3 and day 4 charges are part-b's (amounts
    # aside; 2 * 2 > 3): mostly a copy, so part-b is a version it replaces, and its day 3 line,
    # identical to part-b's, is not a duplicate of a part
    _lines(ws, "cur/jan/part-c.csv", (3, "30.00"), (4, "44.00"), (6, "6.00"))
    run.ingest(ws)
    loads = _loads(ws)
    assert {path: row[1:] for path, row in loads.items()} == {
        "part-a.csv": ("loaded", None, 2, 2, 0),
        "part-b.csv": ("superseded", loads["part-c.csv"][0], 3, 3, 0),
        "part-c.csv": ("loaded", None, 3, 3, 0),
    }
    assert _quarantined(ws) == []
    # part-a's 10 + 20 stay beside part-c's 30 + 44 + 6: 110, not 190 (part-b's 120 added too)
    assert _staged(ws) == [
        ("part-a.csv", 1, Decimal("10.00")),
        ("part-a.csv", 2, Decimal("20.00")),
        ("part-c.csv", 3, Decimal("30.00")),
        ("part-c.csv", 4, Decimal("44.00")),
        ("part-c.csv", 6, Decimal("6.00")),
    ]
    with warehouse.connect(ws.warehouse) as con:
        restated = con.execute(
            "select old_load_ids, old_rows, new_rows, old_billed, new_billed, billed_change from meta.restatements"
        ).fetchall()
    # only part-b is restated: 3 rows, 30 + 40 + 50 = 120, by 3 rows, 30 + 44 + 6 = 80: -40
    assert restated == [([loads["part-b.csv"][0]], 3, 3, Decimal("120.00"), Decimal("80.00"), Decimal("-40.00"))]


def test_lines_at_the_first_and_last_charge_start_of_a_part_are_found_in_earlier_parts(tmp_path: Path) -> None:
    # only the parts holding rows within the new part's first and last charge start are searched
    # for its lines: both bounds are included
    ws = Workspace.init(tmp_path / "ws")
    _lines(ws, "cur/jan/part-1.csv", (5, "50.00"), (9, "90.00"))  # starts at part-3's last day
    _lines(ws, "cur/jan/part-2.csv", (1, "10.00"), (2, "20.00"))  # ends at part-3's first day
    _lines(ws, "cur/jan/part-3.csv", (6, "60.00"), (7, "70.00"))  # holds no day of part-4
    run.ingest(ws)
    # part-4 runs from day 2 to day 5; against each earlier part 3 rows share the key and at most
    # 1 is a charge that part holds (1 * 2 <= 3): all parts, none a version
    _lines(ws, "cur/jan/part-4.csv", (2, "20.00"), (3, "30.00"), (5, "50.00"))
    run.ingest(ws)
    loads = _loads(ws)
    assert loads["part-4.csv"][1:] == ("loaded", None, 3, 1, 2)  # 3 in = 1 loaded + 2 quarantined
    assert _quarantined(ws) == [
        ("billing/cur/jan/part-4.csv", 1, _duplicate(2, "part-2.csv")),
        ("billing/cur/jan/part-4.csv", 3, _duplicate(1, "part-1.csv")),
    ]
    # 50 + 90 + 10 + 20 + 60 + 70 + 30 = 330: every line once
    assert sum(cost for _, _, cost in _staged(ws)) == Decimal("330.00")


def _accounts(ws: Workspace, relative: str, *charges: tuple[str, int, str]) -> None:
    """A billing file of usage lines, one per (billing account, day of January 2026, amount)."""
    path = ws.inbox / "billing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        f"{account},2026-01-01,2026-01-28,2026-01-{day:02d}T00:00:00Z,2026-01-{day + 1:02d}T00:00:00Z,Usage,"
        f"{a},{a},USD,AWS,Amazon Elastic Compute Cloud"
        for account, day, a in charges
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")


def _kept_keys(ws: Workspace) -> list[tuple]:
    """(file, provider, account, period, rows) of staging.billing_keys, checked against the rows
    it keeps the keys of: the same, counted again from staging.billing."""
    with warehouse.connect(ws.warehouse) as con:
        kept = con.execute("select * from staging.billing_keys order by all").fetchall()
        counted = con.execute(
            "select load_id, ProviderName, BillingAccountId, x_BillingPeriod, count(*) from staging.billing "
            "group by all order by all"
        ).fetchall()
        paths = dict(con.execute("select load_id, path from meta.loads").fetchall())
    assert kept == counted
    return sorted((paths[load].removeprefix("billing/cur/"), *key) for load, *key in kept)


def test_the_kept_keys_follow_every_change_to_the_staged_billing_rows(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _accounts(ws, "cur/v1/export.csv", ("111", 1, "10.00"), ("111", 2, "5.00"), ("222", 1, "7.00"))
    run.ingest(ws)
    assert _kept_keys(ws) == [
        ("v1/export.csv", "AWS", "111", "2026-01", 2),
        ("v1/export.csv", "AWS", "222", "2026-01", 1),
    ]
    # a new delivery in another folder restates account 111 only: v1 keeps its account 222 row
    _accounts(ws, "cur/v2/export.csv", ("111", 1, "12.00"), ("555", 3, "3.00"))
    run.ingest(ws)
    assert _kept_keys(ws) == [
        ("v1/export.csv", "AWS", "222", "2026-01", 1),
        ("v2/export.csv", "AWS", "111", "2026-01", 1),
        ("v2/export.csv", "AWS", "555", "2026-01", 1),
    ]
    # the file at v2's path changes: its earlier version's rows and keys go, account 555's too,
    # which the new version does not restate
    _accounts(ws, "cur/v2/export.csv", ("111", 1, "13.00"))
    run.ingest(ws)
    with warehouse.connect(ws.warehouse) as con:
        v2_versions = con.execute(
            "select status from meta.loads where path = 'billing/cur/v2/export.csv' order by loaded_at"
        ).fetchall()
    assert v2_versions == [("superseded",), ("loaded",)]
    assert _kept_keys(ws) == [
        ("v1/export.csv", "AWS", "222", "2026-01", 1),
        ("v2/export.csv", "AWS", "111", "2026-01", 1),
    ]
    # two parts a manifest lists: part-2's only account 333 line repeats part-1's and is
    # quarantined, so part-2 keeps account 444 alone
    (ws.inbox / "billing" / "cur" / "parts").mkdir(parents=True)
    (ws.inbox / "billing" / "cur" / "parts" / "manifest.json").write_text(
        json.dumps({"reportKeys": ["cur/part-1.csv", "cur/part-2.csv"]})
    )
    _accounts(ws, "cur/parts/part-1.csv", ("333", 1, "1.00"))
    _accounts(ws, "cur/parts/part-2.csv", ("333", 1, "1.00"), ("444", 2, "2.00"))
    run.ingest(ws)
    assert _kept_keys(ws) == [
        ("parts/part-1.csv", "AWS", "333", "2026-01", 1),
        ("parts/part-2.csv", "AWS", "444", "2026-01", 1),
        ("v1/export.csv", "AWS", "222", "2026-01", 1),
        ("v2/export.csv", "AWS", "111", "2026-01", 1),
    ]
    assert [(path, row) for path, row, _ in _quarantined(ws)] == [("billing/cur/parts/part-2.csv", 1)]


def test_a_warehouse_older_than_the_kept_keys_gets_them_from_its_staged_rows(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _accounts(ws, "cur/jan/export.csv", ("111", 1, "10.00"), ("111", 2, "5.00"), ("222", 1, "7.00"))
    run.ingest(ws)
    with warehouse.connect(ws.warehouse) as con:  # as a warehouse made before the table existed
        con.execute("drop table staging.billing_keys")
        con.execute("update meta.schema_digest set digest = 'older'")
    assert _kept_keys(ws) == [
        ("jan/export.csv", "AWS", "111", "2026-01", 2),
        ("jan/export.csv", "AWS", "222", "2026-01", 1),
    ]
    # and a later delivery of account 111 finds it there: a restatement, not an addition
    _accounts(ws, "cur/feb/export.csv", ("111", 1, "11.00"))
    run.ingest(ws)
    assert _kept_keys(ws) == [
        ("feb/export.csv", "AWS", "111", "2026-01", 1),
        ("jan/export.csv", "AWS", "222", "2026-01", 1),
    ]


def test_check_names_a_load_whose_kept_keys_are_not_those_of_its_rows(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _accounts(ws, "cur/jan/export.csv", ("111", 1, "10.00"), ("222", 1, "7.00"))
    _accounts(ws, "cur/jan-other/export.csv", ("333", 2, "3.00"))
    run.run(ws, date=date(2026, 2, 1))
    ok = CliRunner().invoke(app, ["check", "-w", str(ws.root)])
    assert ok.exit_code == 0, ok.output
    with warehouse.connect(ws.warehouse) as con:  # one key of jan/export.csv lost
        con.execute("delete from staging.billing_keys where BillingAccountId = '222'")
    found = CliRunner().invoke(app, ["check", "-w", str(ws.root)])
    assert found.exit_code == 1
    assert found.output.count("FAIL billing keys kept") == 1  # jan-other/export.csv's are right
    assert "billing/cur/jan/export.csv" in found.output
