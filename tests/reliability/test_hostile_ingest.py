"""Hostile and broken deliveries, each through `costledger run` on a fresh workspace: one bad file
never blocks the others, the limits refuse what would exhaust memory (small limits set in the
test's config; benchmarks/hostile_inputs.py measures the real sizes), amounts that would overflow
a sum are quarantined, a later export restates exactly the accounts it covers, a copy beside a
bill never doubles it, and a file still being written waits for a later run. Each case asserts
the exit code, the one-line message, what loaded and what was quarantined."""

from __future__ import annotations

import gzip
import json
import os
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from pipeline import ingest as ingest_module
from pipeline.cli import app
from pipeline.ingest import limits
from pipeline.workspace import Workspace
from tests.conftest import read_warehouse, without_progress
from tests.reliability.test_bad_inputs import CONFIG, GOOD_FEB, HEADER, focus, focus_row

runner = CliRunner()
MIB = 1 << 20


def _workspace(tmp_path: Path, files: dict[str, bytes], *, config: str = CONFIG) -> Path:
    ws = Workspace.init(tmp_path / "ws", config_text=config).root
    for relative, data in files.items():
        (ws / "inbox" / relative).parent.mkdir(parents=True, exist_ok=True)
        (ws / "inbox" / relative).write_bytes(data)
    return ws


def _run(ws: Path, *args: str) -> Result:
    return runner.invoke(app, ["run", "-w", str(ws), *args])


def _rows(ws: Path, query: str, params: list | None = None) -> list[tuple]:
    with read_warehouse(ws) as con:
        return con.execute(query, params or []).fetchall()


def _one_error_line(result: Result, *words: str) -> None:
    """Exit 2; one line per failed file (its path, counts and the reason), `published: ...`, then
    exactly one line `error: ...` last; every word in the output; never a traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in without_progress(result.output) if not line.startswith("warning: ")]
    assert lines[-1].startswith("error: ") and [line.startswith("error: ") for line in lines].count(True) == 1, (
        result.output
    )
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)


def _loads(ws: Path) -> dict[str, tuple[str, int, int, int]]:
    """path -> (status, rows_in, rows_loaded, rows_quarantined)"""
    return {
        p: (s, i, loaded, q)
        for p, s, i, loaded, q in _rows(
            ws, "select path, status, rows_in, rows_loaded, rows_quarantined from meta.loads"
        )
    }


def _published_feb(ws: Path) -> Decimal | None:
    return _rows(ws, "select sum(billed_cost) from ledger.cost_ledger where billing_period = '2026-02'")[0][0]


# ---- one bad file never blocks the others


@pytest.mark.parametrize("second", ["BilledCost ", "billedcost", "BilledCost"])
def test_a_header_naming_a_column_twice_rejects_that_file_only(tmp_path: Path, second: str) -> None:
    bad = GOOD_FEB.replace(b"BilledCost,", f"BilledCost,{second},".encode(), 1).replace(b"\n10.00,", b"\n10.00,10.00,")
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/bad.csv": bad})
    result = _run(ws)
    # the same name once spaces are trimmed and case ignored (an exact repeat too)
    _one_error_line(result, "billing/bad.csv", "row 0", "'BilledCost'", repr(second), "(columns 1 and 2)", "ambiguous")
    loads = _loads(ws)
    assert loads["billing/bad.csv"] == ("rejected", 0, 0, 0)
    assert loads["billing/good.csv"] == ("loaded", 3, 3, 0)
    assert _published_feb(ws) == Decimal("12.75")  # the good file alone: 10.00 + 2.50 + 0.25


def test_a_json_line_nested_200000_levels_deep_rejects_that_file_only(tmp_path: Path) -> None:
    deep = b'{"cost": "1.00", "labels": ' + b"[" * 200_000 + b"]" * 200_000 + b"}\n"
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/deep.jsonl": deep})
    result = _run(ws)
    _one_error_line(result, "billing/deep.jsonl", "row 1", "nested too deeply")
    assert _loads(ws)["billing/deep.jsonl"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")  # 10.00 + 2.50 + 0.25


def test_a_deep_telemetry_document_is_rejected_by_the_file_boundary_with_its_exception_type(tmp_path: Path) -> None:
    """No reader knows this case: the per-file boundary turns what was raised into the file's one line."""
    deep = b'{"status": "success", "data": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "telemetry/deep.json": deep})
    result = _run(ws)
    _one_error_line(result, "telemetry/deep.json", "could not be loaded (RecursionError:", "nothing of it was loaded")
    assert _loads(ws)["telemetry/deep.json"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")


def test_an_unexpected_parser_failure_keeps_its_type_and_debug_shows_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.ingest.billing import focus as focus_adapter

    real = focus_adapter.read

    def fails_on_one_file(path, **kwargs):
        if path.name == "bad.csv":
            raise ZeroDivisionError("division by zero")  # a bug in an adapter, for this file only
        return real(path, **kwargs)

    monkeypatch.setattr(focus_adapter, "read", fails_on_one_file)
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/bad.csv": GOOD_FEB.replace(b"10.00", b"11.00")})
    result = _run(ws)
    _one_error_line(result, "billing/bad.csv", "could not be loaded (ZeroDivisionError: division by zero)")
    assert _loads(ws)["billing/bad.csv"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")
    debug = runner.invoke(app, ["--debug", "run", "-w", str(ws)])
    assert isinstance(debug.exception.__cause__, ZeroDivisionError)  # the traceback leads to the adapter


def test_a_duckdb_error_inside_one_files_transaction_rolls_it_back_and_rejects_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.ingest import restate

    real = restate.supersede

    def conflicts_on_one_file(con, load_id, relative, now, **kwargs):
        if relative == "billing/b.csv":  # after its rows went in: the rollback must take them out again
            raise duckdb.ConstraintException("Constraint Error: a conflict in this file's rows")
        return real(con, load_id, relative, now, **kwargs)

    monkeypatch.setattr(restate, "supersede", conflicts_on_one_file)
    other = focus(focus_row("1.00", day="2026-02-05"))
    ws = _workspace(tmp_path, {"billing/a.csv": GOOD_FEB, "billing/b.csv": other})
    result = _run(ws)
    _one_error_line(result, "billing/b.csv", "could not be loaded (ConstraintException: Constraint Error: a conflict")
    assert _loads(ws) == {"billing/a.csv": ("loaded", 3, 3, 0), "billing/b.csv": ("rejected", 0, 0, 0)}
    b_id = _rows(ws, "select load_id from meta.loads where path = 'billing/b.csv'")[0][0]
    assert _rows(ws, "select count(*) from staging.billing where load_id = ?", [b_id]) == [(0,)]
    assert _rows(ws, "select count(*) from raw.source_rows where load_id = ?", [b_id]) == [(0,)]
    assert _published_feb(ws) == Decimal("12.75")
    monkeypatch.setattr(restate, "supersede", real)
    assert _run(ws).exit_code == 0  # retried on the next run, and loads
    assert _published_feb(ws) == Decimal("13.75")  # 12.75 + 1.00


# ---- limits: refused before any parser sees the file, and the other files still load


LIMITS = CONFIG + "[ingest]\nmax_file_mib = {file}\nmax_line_mib = {line}\nmax_field_mib = 1\n"


def test_a_gzip_bomb_is_refused_at_the_size_limit(tmp_path: Path) -> None:
    bomb = gzip.compress(
        GOOD_FEB + (focus_row("0.01", day="2026-02-06") + "\n").encode() * 40_000, mtime=0
    )  # ~5 MiB of CSV
    ws = _workspace(
        tmp_path, {"billing/good.csv": GOOD_FEB, "billing/bomb.csv.gz": bomb}, config=LIMITS.format(file=2, line=1)
    )
    result = _run(ws)
    _one_error_line(result, "billing/bomb.csv.gz", "decompresses to more than 2 MiB (ingest.max_file_mib)")
    assert _loads(ws)["billing/bomb.csv.gz"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")


def test_a_gzip_bomb_is_refused_by_its_ratio_in_run_and_in_convert(tmp_path: Path) -> None:
    line = (focus_row("0.01", day="2026-02-06") + "\n").encode()
    bomb = gzip.compress(GOOD_FEB + line * (70 * MIB // len(line)), mtime=0)  # 70 MiB of one line again
    assert len(bomb) * 100 < 64 * MIB  # expands far more than 100x: refused once the content passes 64 MiB
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/bomb.csv.gz": bomb})
    result = _run(ws)
    _one_error_line(
        result, "billing/bomb.csv.gz", "expands more than 100 times", "ingest.max_gzip_ratio", "decompression bomb"
    )
    assert _loads(ws)["billing/bomb.csv.gz"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")
    out = tmp_path / "focus.parquet"
    converted = runner.invoke(app, ["convert", str(ws / "inbox" / "billing" / "bomb.csv.gz"), "--out", str(out)])
    _one_error_line(converted, "bomb.csv.gz", "expands more than 100 times")
    assert not out.exists()


def test_gzip_members_each_larger_than_a_read_load_whole(tmp_path: Path) -> None:
    # three gzip members in one file (as `cat a.gz b.gz c.gz` or a streaming exporter writes them),
    # each expanding to about 1.6 MiB, more than one 1 MiB step of output, all within the file's
    # first 1 MiB read: the scan reads every member once, then the bill loads whole.
    # Rows cost 0.01 x i for i = 1..24,000 (distinct, so none is a duplicate): 0.01 x 24,000 x 24,001 / 2
    # = 2,880,120.00, plus GOOD_FEB's 12.75 in its own file = 2,880,132.75
    rows = [focus_row(f"{i / 100:.2f}", day="2026-02-06") for i in range(1, 24_001)]
    members = [
        gzip.compress((("\n".join([HEADER, *part]) if n == 0 else "\n".join(part)) + "\n").encode(), mtime=0)
        for n, part in enumerate((rows[:8000], rows[8000:16000], rows[16000:]))
    ]
    assert all(len(m) < MIB // 3 for m in members) and len(gzip.decompress(members[1])) > MIB
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/members.csv.gz": b"".join(members)})
    assert _run(ws).exit_code == 0
    assert _loads(ws)["billing/members.csv.gz"] == ("loaded", 24_000, 24_000, 0)
    assert _published_feb(ws) == Decimal("2880132.75")


def test_a_field_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    big = focus_row("1.00").replace("Amazon EC2", '"' + "x" * (MIB + 10) + '"')  # a 1 MiB ServiceName, quoted
    ws = _workspace(
        tmp_path,
        {"billing/good.csv": GOOD_FEB, "billing/big.csv": focus(focus_row("2.00"), big)},
        config=LIMITS.format(file=64, line=4),
    )
    result = _run(ws)
    _one_error_line(result, "billing/big.csv", "a value on line 3 is longer than 1 MiB (ingest.max_field_mib)")
    assert _loads(ws)["billing/big.csv"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")


def test_a_quoted_field_spanning_many_short_lines_is_refused_as_one_value(tmp_path: Path) -> None:
    value = '"' + "a short line\n" * (MIB // 13 + 100) + '"'  # every line short, the value over 1 MiB
    big = focus_row("1.00").replace("Amazon EC2", value)
    ws = _workspace(
        tmp_path, {"billing/good.csv": GOOD_FEB, "billing/big.csv": focus(big)}, config=LIMITS.format(file=64, line=4)
    )
    result = _run(ws)
    _one_error_line(result, "billing/big.csv", "is longer than 1 MiB (ingest.max_field_mib)")
    assert _published_feb(ws) == Decimal("12.75")


def test_a_line_without_an_end_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    endless = HEADER.encode() + b"\n" + b"9" * (2 * MIB)  # no newline, no comma, no end
    ws = _workspace(
        tmp_path, {"billing/good.csv": GOOD_FEB, "billing/endless.csv": endless}, config=LIMITS.format(file=64, line=1)
    )
    result = _run(ws)
    _one_error_line(result, "billing/endless.csv", "line 2 is longer than 1 MiB (ingest.max_line_mib)")
    assert _loads(ws)["billing/endless.csv"] == ("rejected", 0, 0, 0)
    assert _published_feb(ws) == Decimal("12.75")


def test_a_file_beyond_a_limit_keeps_its_identity_and_loads_once_the_limit_is_raised(tmp_path: Path) -> None:
    big = focus(focus_row("1.00").replace("Amazon EC2", "y" * (MIB + 1)))
    ws = _workspace(tmp_path, {"billing/big.csv": big}, config=LIMITS.format(file=64, line=4))
    _one_error_line(_run(ws), "billing/big.csv", "ingest.max_field_mib")
    (ws / "costledger.toml").write_text(CONFIG + "[ingest]\nmax_field_mib = 2\nmax_line_mib = 2\n")
    assert _run(ws).exit_code == 0
    assert _loads(ws) == {"billing/big.csv": ("loaded", 1, 1, 0)}  # the same version, now loaded


def test_the_limits_keep_typical_exports_whole() -> None:
    """Lines and values as the scan measures them: quoted separators and escaped quotes included."""
    text = b'a,b\n1,"x,""y""\nz"\n2,3\n'  # row 1's value b holds a comma, escaped quotes and a line end
    fits = limits.Limits(file_bytes=100, gzip_ratio=100, line_bytes=10, field_bytes=11)
    tight = limits.Limits(file_bytes=100, gzip_ratio=100, line_bytes=10, field_bytes=10)

    def problem(lim: limits.Limits) -> str | None:
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"limits-{os.getpid()}.csv"
        path.write_bytes(text)
        try:
            return limits.scan(path, lim, csv=True).problem
        finally:
            path.unlink()

    # the value "x,""y""<line end>z" is 11 bytes with its quotes (ending on line 3); the longest line 10
    assert problem(fits) is None
    assert "a value on line 3 is longer than 10 bytes" in problem(tight)


# ---- money that cannot overflow


def test_amounts_that_would_overflow_a_sum_are_quarantined_and_check_stays_clear(tmp_path: Path) -> None:
    huge = "99999999999999999999.999999999999999999"
    near = "999999999999.999999999999999999"  # just below the maximum, 1e12
    bill = focus(
        focus_row(huge),
        focus_row(huge, day="2026-02-04"),
        focus_row(huge, day="2026-02-05"),
        focus_row(near, day="2026-02-06"),
        focus_row(near, day="2026-02-07"),
        focus_row(near, day="2026-02-08"),
    )
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/huge.csv": bill})
    result = _run(ws)
    # half the file quarantined is within quarantine.max_share (0.5): a line for it, exit 0
    assert result.exit_code == 0, result.output
    assert without_progress(result.output) == [
        "billing/huge.csv: 6 rows in, 3 loaded, 3 quarantined: BilledCost: expected an exact decimal number within "
        "+/-1e12 (e.g. 12.34) (3 rows)",
        "published: 2026-02",
    ]
    assert _loads(ws)["billing/huge.csv"] == ("loaded", 6, 3, 3)
    quarantined = _rows(ws, 'select row_number, "column", value, reason from meta.quarantine order by row_number')
    assert quarantined == [
        (n, "BilledCost", huge, "expected an exact decimal number within +/-1e12 (e.g. 12.34)") for n in (1, 2, 3)
    ]
    # 12.75 + 3 x 999999999999.999999999999999999 = 3000000000012.749999999999999997, exactly
    assert _published_feb(ws) == Decimal("3000000000012.749999999999999997")
    check = runner.invoke(app, ["check", "-w", str(ws)])
    assert check.exit_code == 0, check.output
    assert check.output.strip() == "ok: 1 periods reconcile exactly; every load balances"


def test_an_fx_rate_beyond_the_maximum_is_quarantined(tmp_path: Path) -> None:
    ws = _workspace(
        tmp_path, {"fx/fx.csv": b"rate_date,currency,rate\n2026-02-01,EUR,1.08\n2026-02-02,EUR,100000000\n"}
    )
    assert _run(ws).exit_code == 0
    assert _rows(ws, 'select row_number, "column", reason from meta.quarantine') == [
        (2, "rate", "expected a rate below 1e8")
    ]


# ---- restatement by account; a copy beside a bill


ACCOUNT_HEADER = HEADER + ",BillingAccountId"


def _account_row(cost: str, provider: str, account: str, *, day: str = "2026-02-03", model: str = "m1") -> str:
    return focus_row(cost, day=day, model=model).replace(",AWS,", f",{provider},") + f",{account}"


def _bill(*rows: str) -> bytes:
    return ("\n".join([ACCOUNT_HEADER, *rows]) + "\n").encode()


LEDGER = "select * exclude (run_id) from ledger.cost_ledger order by all"


def test_a_later_export_of_one_provider_restates_exactly_its_account(tmp_path: Path) -> None:
    first = _bill(
        _account_row("10.00", "AWS", "a1"),
        _account_row("20.00", "AWS", "a1", day="2026-02-04"),
        _account_row("5.00", "Azure", "z1", model="m2"),
        _account_row("7.00", "GCP", "g1"),
    )
    ws = _workspace(tmp_path, {"billing/v1/all.csv": first})
    assert _run(ws).exit_code == 0
    before = _rows(ws, "select * exclude (run_id) from ledger.cost_ledger where provider <> 'AWS' order by all")
    later = _bill(
        _account_row("10.00", "AWS", "a1"), _account_row("25.00", "AWS", "a1", day="2026-02-04")
    )  # one cost changed
    (ws / "inbox" / "billing" / "v2").mkdir()
    (ws / "inbox" / "billing" / "v2" / "aws.csv").write_bytes(later)

    result = _run(ws)

    assert result.exit_code == 0, result.output
    assert without_progress(result.output) == ["published: 2026-02"]
    # the expected AWS rows: the later export loaded alone (same bytes at the same path, so the same lineage)
    alone = _workspace(tmp_path / "alone", {"billing/v2/aws.csv": later})
    assert _run(alone).exit_code == 0
    expected = sorted(before + _rows(alone, LEDGER), key=repr)
    assert sorted(_rows(ws, LEDGER), key=repr) == expected  # row for row, not only the totals
    # AWS 10.00 + 25.00 = 35.00 (not 30 + 35); Azure 5.00 and GCP 7.00 stay
    assert _rows(ws, "select provider, sum(billed_cost) from ledger.cost_ledger group by all order by 1") == [
        ("AWS", Decimal("35")),
        ("Azure", Decimal("5")),
        ("GCP", Decimal("7")),
    ]
    assert _rows(
        ws,
        "select provider, billing_account_id, billing_period, old_rows, new_rows, old_billed, new_billed, "
        "billed_change "
        "from meta.restatements",
    ) == [("AWS", "a1", "2026-02", 2, 2, Decimal("30"), Decimal("35"), Decimal("5"))]
    # the first file stays loaded for Azure and GCP; its AWS rows are listed as replaced, and it balances
    assert _loads(ws)["billing/v1/all.csv"] == ("loaded", 4, 4, 0)
    assert _rows(ws, "select row_number from meta.replaced_rows order by 1") == [(1,), (2,)]
    check = runner.invoke(app, ["check", "-w", str(ws)])
    assert check.exit_code == 0, check.output
    again = _run(ws, "--month", "2026-02")  # and every later run publishes
    assert again.exit_code == 0, again.output
    assert without_progress(again.output) == ["published: 2026-02"]


def test_a_copy_of_a_bill_one_byte_different_beside_it_replaces_it_never_doubles_it(tmp_path: Path) -> None:
    bill = _bill(_account_row("10.00", "AWS", "a1"), _account_row("20.00", "AWS", "a1", day="2026-02-04"))
    ws = _workspace(tmp_path, {"billing/bill.csv": bill})
    assert _run(ws).exit_code == 0
    (ws / "inbox" / "billing" / "bill (1).csv").write_bytes(bill.replace(b"20.00,20.00", b"20.01,20.01"))

    result = _run(ws)

    assert result.exit_code == 0, result.output
    assert _published_feb(ws) == Decimal("30.01")  # 10.00 + 20.01, the copy: not 60.01
    assert _loads(ws) == {"billing/bill.csv": ("superseded", 2, 2, 0), "billing/bill (1).csv": ("loaded", 2, 2, 0)}
    assert _rows(ws, "select old_billed, new_billed from meta.restatements") == [(Decimal("30"), Decimal("30.01"))]
    check = runner.invoke(app, ["check", "-w", str(ws)])
    assert check.exit_code == 0 and check.output.startswith("ok:"), check.output


def test_parts_of_one_export_add_up_and_a_line_repeated_across_parts_loads_once(tmp_path: Path) -> None:
    one = _bill(_account_row("10.00", "AWS", "a1"), _account_row("1.00", "AWS", "a1", day="2026-02-05"))
    two = _bill(
        _account_row("20.00", "AWS", "a1", day="2026-02-04"), _account_row("1.00", "AWS", "a1", day="2026-02-05")
    )
    manifest = json.dumps({"reportKeys": ["cur/part-1.csv", "cur/part-2.csv"]}).encode()
    ws = _workspace(
        tmp_path, {"billing/exp/manifest.json": manifest, "billing/exp/part-1.csv": one, "billing/exp/part-2.csv": two}
    )
    result = _run(ws)
    assert result.exit_code == 0, result.output
    assert _published_feb(ws) == Decimal("31.00")  # 10.00 + 1.00 + 20.00: the repeated 1.00 line once
    assert _loads(ws)["billing/exp/part-2.csv"] == ("loaded", 2, 1, 1)
    assert _rows(ws, 'select path, row_number, "column", reason from meta.quarantine') == [
        (
            "billing/exp/part-2.csv",
            2,
            "(every column)",
            "duplicate line: identical in every column to row 2 of billing/exp/part-1.csv, another part of the same "
            "export; loaded once",
        )
    ]
    assert _rows(ws, "select count(*) from meta.restatements") == [(0,)]


# ---- files in motion


@pytest.fixture
def settle_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settle time users get (tests/conftest.py sets it to 0 for every other test)."""
    monkeypatch.delenv(ingest_module.SETTLE_ENV, raising=False)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_file_still_being_written_waits_and_loads_whole_on_a_later_run(
    tmp_path: Path, settle_default: None, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [focus_row(f"{n}.25", day=f"2026-02-{n % 27 + 1:02d}") for n in range(1, 201)]
    whole = focus(*rows)
    cut = whole[: whole.index(b"\n100.25,") + 5]  # the writer is in row 100: its cost reads "100." so far
    ws = _workspace(tmp_path, {"billing/good.csv": GOOD_FEB, "billing/growing.csv": cut})
    _age(ws / "inbox" / "billing" / "good.csv", 3600)  # delivered an hour ago

    result = _run(ws)

    assert result.exit_code == 0, result.output
    # a warning that the file waits, then what was published
    lines = without_progress(result.output)
    assert lines[-1] == "published: 2026-02" and all(
        line.startswith("warning: billing/growing.csv") for line in lines[:-1]
    ), lines
    assert "billing/growing.csv" not in _loads(ws)  # not read at all: no load, no rejection
    assert _published_feb(ws) == Decimal("12.75")  # the settled file alone
    notes = [r.getMessage() for r in caplog.records if "growing.csv" in r.getMessage()]
    assert (
        len(notes) == 1
        and "within the settle time of 60 s" in notes[0]
        and "costledger run --settle-seconds 0" in notes[0]
    ), notes

    (ws / "inbox" / "billing" / "growing.csv").write_bytes(whole)  # the writer finishes
    _age(ws / "inbox" / "billing" / "growing.csv", 61)
    assert _run(ws).exit_code == 0
    assert _loads(ws)["billing/growing.csv"] == ("loaded", 200, 200, 0)
    # 12.75 + sum over n = 1..200 of (n + 0.25) = 12.75 + 20100 + 50 = 20162.75
    assert _published_feb(ws) == Decimal("20162.75")


def test_settle_seconds_zero_loads_at_once_from_the_command_line_or_the_environment(
    tmp_path: Path, settle_default: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path, {"billing/new.csv": GOOD_FEB})
    assert _run(ws).exit_code == 0 and _loads(ws) == {}
    assert _run(ws, "--settle-seconds", "0").exit_code == 0
    assert _loads(ws) == {"billing/new.csv": ("loaded", 3, 3, 0)}
    other = _workspace(tmp_path / "env", {"billing/new.csv": GOOD_FEB})
    monkeypatch.setenv(ingest_module.SETTLE_ENV, "0")
    assert _run(other).exit_code == 0 and _loads(other) == {"billing/new.csv": ("loaded", 3, 3, 0)}
    monkeypatch.setenv(ingest_module.SETTLE_ENV, "soon")
    _one_error_line(_run(other), "COSTLEDGER_SETTLE_SECONDS='soon'", "expected a number of seconds")


def test_a_file_that_changes_while_it_is_read_is_skipped_and_loads_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pipeline import ingest as ingest_package

    real = ingest_package.limits.scan
    extra = (focus_row("5.00", day="2026-02-09") + "\n").encode()

    def a_writer_appends_after_the_scan(path, *args, **kwargs):
        scanned = real(path, *args, **kwargs)
        if path.name == "growing.csv" and b"5.00" not in path.read_bytes():
            with path.open("ab") as handle:  # another process appends between the scan and the read
                handle.write(extra)
        return scanned

    monkeypatch.setattr(ingest_package.limits, "scan", a_writer_appends_after_the_scan)
    # the writer parses every file itself: the append comes between its own scan and read (a parse
    # thread that met it would find the file changed and leave it to the writer, which loads it whole)
    ws = _workspace(
        tmp_path,
        {"billing/good.csv": GOOD_FEB, "billing/growing.csv": focus(focus_row("1.00", day="2026-02-08"))},
        config=CONFIG + "[ingest]\nparse_workers = 0\n",
    )
    result = _run(ws)
    assert result.exit_code == 0, result.output
    assert "billing/growing.csv" not in _loads(ws)
    assert any(
        "growing.csv: changed while it was read" in r.getMessage() and "loads on a later run" in r.getMessage()
        for r in caplog.records
    )
    assert _published_feb(ws) == Decimal("12.75")
    assert _run(ws).exit_code == 0
    assert _loads(ws)["billing/growing.csv"] == ("loaded", 2, 2, 0)
    assert _published_feb(ws) == Decimal("18.75")  # 12.75 + 1.00 + 5.00


def test_the_parse_step_honours_the_settle_time(tmp_path: Path, settle_default: None) -> None:
    from pipeline.ingest import pending, stage

    ws = _workspace(tmp_path, {"billing/old.csv": GOOD_FEB, "billing/new.csv": focus(focus_row("1.00"))})
    _age(ws / "inbox" / "billing" / "old.csv", 120)
    assert [f["path"] for f in pending(ws)] == ["billing/old.csv"]  # the DAG maps no parse task to new.csv
    assert [f["path"] for f in pending(ws, settle_seconds=0)] == ["billing/new.csv", "billing/old.csv"]
    assert stage(ws, "billing", "billing/old.csv")["status"] == "parsed"


def test_a_part_of_an_export_waits_while_another_part_is_being_written(tmp_path: Path, settle_default: None) -> None:
    manifest = json.dumps({"reportKeys": ["cur/part-1.csv", "cur/part-2.csv"]}).encode()
    ws = _workspace(
        tmp_path,
        {
            "billing/exp/manifest.json": manifest,
            "billing/exp/part-1.csv": GOOD_FEB,
            "billing/exp/part-2.csv": focus(focus_row("1.00", day="2026-02-09")),
        },
    )
    for name in ("manifest.json", "part-1.csv"):
        _age(ws / "inbox" / "billing" / "exp" / name, 3600)
    assert _run(ws).exit_code == 0
    assert {p: s for p, (s, *_) in _loads(ws).items()} == {"billing/exp/manifest.json": "loaded"}  # no part alone
    _age(ws / "inbox" / "billing" / "exp" / "part-2.csv", 3600)
    assert _run(ws).exit_code == 0
    assert _published_feb(ws) == Decimal("13.75")  # both parts: 12.75 + 1.00


def test_files_a_pull_landed_need_no_settle_time(tmp_path: Path, settle_default: None) -> None:
    from pipeline import pull

    ws = Workspace.init(
        tmp_path / "ws",
        config_text=CONFIG
        + f'\n[[remote_sources]]\nsource = "billing"\nuri = "file://{tmp_path}/ws/exports/"\nname = "local"\n',
    ).root
    (ws / "exports").mkdir()
    (ws / "exports" / "feb.csv").write_bytes(GOOD_FEB)
    (result,) = pull.pull(ws)
    assert result.copied == ["billing/local/feb.csv"]
    assert _run(ws).exit_code == 0  # landed whole a moment ago: read at once
    assert _loads(ws) == {"billing/local/feb.csv": ("loaded", 3, 3, 0)}
    (ws / "inbox" / "billing" / "local" / "by-hand.csv").write_bytes(focus(focus_row("1.00")))
    assert _run(ws).exit_code == 0 and "billing/local/by-hand.csv" not in _loads(
        ws
    )  # written by hand: it settles first
