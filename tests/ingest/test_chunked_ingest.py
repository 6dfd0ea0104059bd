"""A billing file larger than `[ingest] chunk_mib` is parsed in row-aligned chunks staged to disk
(pipeline.ingest.chunked); what it loads must be exactly what the same file loads whole.

Each test writes one file into two fresh workspaces, one with a chunk of a few hundred bytes (a
row of these files is about 130 bytes, so a chunk holds two or three rows) and one with the
default (64 MiB: the file loads whole), and compares the loads: meta.loads counts and message,
meta.quarantine rows (row number, column, value, reason), the staged rows and the ledger total."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline import ingest as ingest_module
from pipeline import warehouse
from pipeline.cli import app
from pipeline.generators.demo import generate_estate
from pipeline.generators.formats import write_billing
from pipeline.ingest import chunked, ingest
from pipeline.workspace import Workspace

runner = CliRunner()

# 0.0003 MiB = 314 bytes: two or three rows of the files below a chunk
TINY = 0.0003
TINY_BYTES = int(TINY * (1 << 20))
HEADER = (
    "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,BilledCost,EffectiveCost,BillingCurrency,ProviderName,ServiceName"
)


def _row(day: int, cost: str, service: str = "Virtual Machines", *, start: str = "") -> str:
    start = start or f"2026-01-{day:02d}T00:00:00Z"
    return f"acct,2026-01-01,2026-02-01,{start},2026-01-{day:02d}T01:00:00Z,Usage,{cost},{cost},USD,Microsoft,{service}"


def _workspace(root: Path, name: str, data: bytes, *, chunk: float | None, config: str = "") -> Path:
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    extra = config + (f"\n[ingest]\nchunk_mib = {chunk}\n" if chunk is not None else "")
    if extra:
        with (root / "costledger.toml").open("a", encoding="utf-8") as handle:
            handle.write(extra)
    (root / "inbox" / "billing" / name).write_bytes(data)
    return root


def _run(root: Path, month: str = "2026-01") -> tuple[int, str]:
    result = runner.invoke(app, ["run", "-w", str(root), "--month", month, "--settle-seconds", "0"])
    return result.exit_code, result.output


def _facts(root: Path) -> dict:
    """What a load left: meta.loads, meta.quarantine, staging.billing and the ledger's billing total."""
    with warehouse.connect(root / "warehouse.duckdb") as con:
        loads = con.execute(
            "select path, status, detected_format, rows_in, rows_loaded, rows_quarantined, message, periods "
            "from meta.loads where source = 'billing' order by path"
        ).fetchall()
        quarantine = con.execute(
            'select row_number, "column", value, reason from meta.quarantine order by row_number, "column"'
        ).fetchall()
        staged = con.execute(
            "select row_number, BilledCost, ChargePeriodStart, ServiceName from staging.billing order by row_number"
        ).fetchall()
        raw = con.execute("select row_number, record::varchar from raw.source_rows order by row_number").fetchall()
        total = con.execute("select sum(billed_cost) from ledger.cost_ledger where source = 'billing'").fetchone()[0]
    loads = [(*load[:6], load[6].replace(str(root), "<ws>"), load[7]) for load in loads]  # messages name the path
    return {"loads": loads, "quarantine": quarantine, "staged": staged, "raw": raw, "total": total}


def _both(tmp_path: Path, name: str, data: bytes, *, config: str = "", month: str = "2026-01") -> tuple:
    """(chunked exit, chunked output, chunked facts, whole facts); the exits and messages agree."""
    chunked_root = _workspace(tmp_path / "chunked", name, data, chunk=TINY, config=config)
    whole_root = _workspace(tmp_path / "whole", name, data, chunk=None, config=config)
    code, output = _run(chunked_root, month)
    whole_code, whole_output = _run(whole_root, month)
    assert code == whole_code, (output, whole_output)
    parsed = chunked_root / "work" / "parsed"
    assert not parsed.exists() or not list(parsed.iterdir())  # the chunks' bundle is gone once loaded
    return code, output, _facts(chunked_root), _facts(whole_root), whole_output


def _cuts(data: bytes) -> list[int]:
    """Where the chunks of `data` end, in bytes of the file (each chunk after the first also
    carries a copy of the header line)."""
    header = data.index(b"\n") + 1
    ends, at = [], 0
    for n, piece in enumerate(chunked.pieces(iter([data]), TINY_BYTES, csv=True)):
        at += len(piece.data) - (header if n else 0)
        ends.append(at)
    return ends


def test_a_quoted_multiline_value_across_a_chunk_boundary_loads_as_the_whole_file(tmp_path: Path) -> None:
    # 12 rows; row 1's ServiceName is a quoted value with two line breaks in it, the first of them
    # past byte 314 (the chunk size): a cut at the first newline past 314, quotes ignored, would
    # split it. Row 7 has a bad cost (quarantined). Billed total by hand: rows 1..12 cost 1..12,
    # less row 7: 78 - 7 = 71.
    rows = [_row(d, f"{d}.00") for d in range(1, 13)]
    service = "GPU" + "x" * 80 + '\nserver, ""big""\nfleet'
    rows[0] = _row(1, "1.00", f'"{service}"')
    rows[6] = _row(7, "seven")
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    start, end = data.index(b'"GPU'), data.index(b'fleet"')
    assert start < TINY_BYTES < data.index(b"\n", start) < end  # a line end inside the value, past 314
    cuts = _cuts(data)
    assert len(cuts) >= 4 and cuts[-1] == len(data)
    assert all(not (start < cut <= end) for cut in cuts)  # never inside the value

    code, output, got, whole, _ = _both(tmp_path, "focus.csv", data)
    assert code == 0, output
    assert got == whole
    assert got["total"] == 71
    assert got["loads"][0][3:6] == (12, 11, 1)  # rows in, loaded, quarantined
    assert got["quarantine"] == [
        (7, "BilledCost", "seven", "expected an exact decimal number within +/-1e12 (e.g. 12.34)")
    ]
    assert got["staged"][0][3] == "GPU" + "x" * 80 + '\nserver, "big"\nfleet'  # row 1 whole, quotes unescaped
    assert [r[0] for r in got["raw"]] == list(range(1, 13))


def test_duplicates_in_different_chunks_are_quarantined_naming_the_first(tmp_path: Path) -> None:
    # rows 10 and 14 repeat row 2 exactly (chunks of 2-3 rows: rows 2, 10 and 14 are in three
    # different chunks); row 12 repeats row 11 (maybe in the same chunk). Loaded: 14 - 3 = 11 rows,
    # rows 1..9, 11 and 13 of cost 1..9, 11, 13: total 105 - (10 + 12 + 14) = 69.
    rows = [_row(d, f"{d}.00") for d in range(1, 15)]
    rows[9] = rows[1]
    rows[13] = rows[1]
    rows[11] = rows[10]
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    code, output, got, whole, _ = _both(tmp_path, "focus.csv", data)
    assert code == 0, output
    assert got == whole
    assert got["total"] == 69
    reason = "duplicate line: identical to row {} in every column"
    assert got["quarantine"] == [
        (10, "(every column)", None, reason.format(2)),
        (12, "(every column)", None, reason.format(11)),
        (14, "(every column)", None, reason.format(2)),
    ]
    assert got["loads"][0][3:6] == (14, 11, 3)


def test_a_row_check_reject_is_quarantined_once_and_a_duplicate_takes_its_reason(tmp_path: Path) -> None:
    # row 6 is charged after its billing period (a row check rejects it); row 11 repeats it exactly,
    # chunks later: as in a whole-file parse, row 6 is quarantined once with the check's reason and
    # row 11 once as its duplicate.
    rows = [_row(d, f"{d}.00") for d in range(1, 13)]
    rows[5] = "acct,2026-01-01,2026-02-01,2026-03-06T00:00:00Z,2026-03-06T01:00:00Z,Usage,6.00,6.00,USD,Microsoft,VM"
    rows[10] = rows[5]
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    code, output, got, whole, _ = _both(tmp_path, "focus.csv", data)
    assert code == 0, output
    assert got == whole
    assert [(row[0], row[3].split(":")[0]) for row in got["quarantine"]] == [
        (6, "outside the billing period"),
        (11, "duplicate line"),
    ]


def test_us_dates_ambiguous_in_the_first_chunks_take_the_order_a_later_chunk_shows(tmp_path: Path) -> None:
    # Slash dates month/day/year; the first rows' days are all 12 or below (4/1/25 ... 4/6/25:
    # either order), and only row 9, chunks later, has 4/15/25, which decides month/day/year for
    # the whole file: every charge is in April 2025, none in January..June by day/month.
    def us(day: int, cost: str) -> str:
        return f"acct,4/1/25,5/1/25,4/{day}/25 0:00,4/{day}/25 1:00,Usage,{cost},{cost},USD,Microsoft,VM"

    rows = [us(d, f"{n}.00") for n, d in enumerate((1, 2, 3, 4, 5, 6, 1, 2, 15, 3), start=1)]
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    assert len(_cuts(data)) >= 3
    code, output, got, whole, _ = _both(tmp_path, "us.csv", data, month="2025-04")
    assert code == 0, output
    assert got == whole
    starts = sorted({str(r[2])[:10] for r in got["staged"]})
    assert starts == ["2025-04-01", "2025-04-02", "2025-04-03", "2025-04-04", "2025-04-05", "2025-04-06", "2025-04-15"]
    assert got["total"] == 55  # costs 1..10, one a row


def test_a_later_chunk_contradicting_the_date_order_rejects_the_file_as_a_whole_parse_does(tmp_path: Path) -> None:
    # row 1 writes 15/4/25 (day first), row 9 writes 4/20/25 (day second): both orders.
    def slashed(first: str) -> str:
        return f"acct,4/1/25,5/1/25,{first} 0:00,{first} 1:00,Usage,1.00,1.00,USD,Microsoft,VM"

    rows = [slashed("15/4/25")] + [slashed(f"{d}/4/25") for d in (1, 2, 3, 4, 5, 6, 7)]
    rows.append(slashed("4/20/25"))
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    code, output, got, whole, whole_output = _both(tmp_path, "mixed.csv", data, month="2025-04")
    assert code == 2
    # the message names the first slash date of the first date column, as a whole-file parse does
    message = (
        "row 1, column 'BillingPeriodStart': cannot tell the day from the month in '4/1/25': "
        "the file writes slash dates both day/month/year and month/day/year"
    )
    assert got["loads"] == whole["loads"] and got["loads"][0][1] == "rejected"
    assert message in got["loads"][0][6]
    assert "mixed.csv: rejected" in output and "mixed.csv: rejected" in whole_output


def test_reject_file_policy_rejects_the_file_for_a_bad_row_in_a_later_chunk(tmp_path: Path) -> None:
    # 10 rows, row 9 (a later chunk) has no ChargeCategory: under reject_file nothing loads, and
    # meta.quarantine keeps all 10 rows (row 9 with its reason, the 9 others as not loaded).
    rows = [_row(d, "1.00") for d in range(1, 11)]
    rows[8] = rows[8].replace(",Usage,", ",,")
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    code, output, got, whole, whole_output = _both(
        tmp_path, "strict.csv", data, config='\n[bad_rows]\nbilling = "reject_file"\n'
    )
    assert code == 2
    assert got["loads"] == whole["loads"]
    assert got["loads"][0][1] == "rejected" and "row 9" in got["loads"][0][6]
    assert "(bad_rows.billing = 'reject_file'; 1 bad rows)" in got["loads"][0][6]
    assert got["quarantine"] == whole["quarantine"] and len(got["quarantine"]) == 10
    assert got["quarantine"][8][1:] == ("ChargeCategory", None, "required value is missing")
    assert got["staged"] == [] and got["total"] is None


def test_gzip_input_is_chunked_as_it_is_decompressed(tmp_path: Path) -> None:
    # 20 rows of cost 0.50 .. 10.00 (d / 2): total 105.00; the gzip file is far smaller than its
    # content, which is what decides chunking (content 20 * ~120 bytes > 314).
    rows = [_row(d, f"{d / 2:.2f}") for d in range(1, 21)]
    text = ("\n".join([HEADER, *rows]) + "\n").encode()
    data = gzip.compress(text)
    code, output, got, whole, _ = _both(tmp_path, "focus.csv.gz", data)
    assert code == 0, output
    assert got == whole
    assert got["total"] == 105
    assert got["loads"][0][3:6] == (20, 20, 0)


@pytest.fixture(scope="module")
def focus_rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[list[str]]]:
    """The header and first 60 rows of a generated FOCUS export (one month, March 2026)."""
    estate = generate_estate(tmp_path_factory.mktemp("estate") / "ws", months=("2026-03",), billing_format="focus")
    path = next(p for p in sorted((estate.root / "inbox" / "billing").rglob("*.csv")) if p.stat().st_size > 100_000)
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    header = next(reader)
    return header, [row for _, row in zip(range(60), reader, strict=False)]


def _ingest_both(tmp_path: Path, path: Path) -> tuple[dict, dict]:
    """Load `path` into two workspaces (chunks of 314 bytes; whole) with the ingest step alone."""
    got = []
    for name, chunk in (("chunked", TINY), ("whole", None)):
        root = _workspace(tmp_path / name, path.name, path.read_bytes(), chunk=chunk)
        result = ingest(Workspace.open(root), settle_seconds=0)
        assert not result.errors, result.errors
        got.append(_facts_staged(root))
    return got[0], got[1]


def _facts_staged(root: Path) -> dict:
    with warehouse.connect(root / "warehouse.duckdb") as con:
        loads = con.execute(
            "select detected_format, rows_in, rows_loaded, rows_quarantined, message, periods from meta.loads"
        ).fetchall()
        staged = con.sql("select * exclude (load_id) from staging.billing order by row_number").pl()
        quarantine = con.execute('select row_number, "column", reason from meta.quarantine order by 1').fetchall()
        raw = con.execute("select count(*), count(distinct row_number) from raw.source_rows").fetchone()
    return {"loads": loads, "staged": staged, "quarantine": quarantine, "raw": raw}


def test_json_lines_in_the_gcp_layout_are_chunked(tmp_path: Path, focus_rows) -> None:
    # 60 charges as a GCP billing export (one JSON object a line, several hundred bytes each:
    # about one line a chunk); the same staged rows as the file loaded whole.
    header, rows = focus_rows
    path = write_billing(tmp_path / "export", header, rows, "gcp")
    lines = path.read_bytes().count(b"\n")
    assert lines == 60 and path.stat().st_size > 60 * TINY_BYTES // 2
    assert len(list(chunked.pieces(iter([path.read_bytes()]), TINY_BYTES, csv=False))) >= 30
    got, whole = _ingest_both(tmp_path, path)
    assert got["loads"] == whole["loads"] and got["loads"][0][0] == "gcp-billing-export"
    assert got["quarantine"] == whole["quarantine"]
    assert got["raw"] == whole["raw"] == (60, 60)
    assert got["staged"].equals(whole["staged"])
    assert got["staged"].height > 0


def test_parquet_is_read_a_few_row_groups_at_a_time(tmp_path: Path, focus_rows) -> None:
    # 60 charges as an AWS CUR 2.0 Parquet file (n line items: CUR splits some charges), rewritten
    # in row groups of 4 rows (n / 4 groups; each a few hundred bytes uncompressed, so a chunk of
    # 314 bytes holds one or two, or a slice of one).
    header, rows = focus_rows
    written = write_billing(tmp_path / "cur", header, rows, "cur2")
    path = tmp_path / "cur2.parquet"
    items = pl.read_parquet(written)
    items.write_parquet(path, row_group_size=4)
    n = items.height
    frames = list(chunked.parquet_frames(path, TINY_BYTES))
    assert len(frames) >= n // 8 and sum(f.height for f in frames) == n >= 60
    got, whole = _ingest_both(tmp_path, path)
    assert got["loads"] == whole["loads"] and got["loads"][0][0] == "aws-cur2"
    assert got["quarantine"] == whole["quarantine"]
    assert got["raw"] == whole["raw"] == (n, n)
    assert got["staged"].equals(whole["staged"])


def test_record_ends_are_newlines_outside_quotes() -> None:
    # a,"b<LF>c",d<LF>e<LF>: the first line end is inside quotes (one quote before it: odd),
    # the second and third are record ends (two quotes before them: even).
    data = np.frombuffer(b'a,"b\nc",d\ne\n', dtype=np.uint8)
    assert chunked.record_ends(data, csv=True).tolist() == [10, 12]
    assert chunked.record_ends(data, csv=False).tolist() == [5, 10, 12]


def test_the_parse_step_stages_a_chunked_bundle_that_the_writer_loads(tmp_path: Path) -> None:
    # The DAG's parse step (ingest.stage) parses a large file in chunks too: its bundle holds one
    # set of Parquet files per chunk, and the writer loads it (then deletes it) with the result
    # of a whole-file load: 12 rows, row 11 repeating row 1 (quarantined), total 78 - 11 = 67.
    rows = [_row(d, f"{d}.00") for d in range(1, 13)]
    rows[10] = rows[0]
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    root = _workspace(tmp_path / "staged", "focus.csv", data, chunk=TINY)
    ws = Workspace.open(root)
    assert ingest_module.stage(ws, "billing", "billing/focus.csv")["status"] == "parsed"
    (folder,) = (root / "work" / "parsed").iterdir()
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["chunks"] >= 4 and meta["rows_in"] == 12 and meta["rows_quarantined"] == 1
    assert len(list(folder.glob("rows-*.parquet"))) == meta["chunks"]
    result = ingest(ws, settle_seconds=0)
    assert not result.errors and result.rows["billing/focus.csv"] == (11, 1)
    assert not folder.exists()  # committed: the bundle is gone
    whole = _workspace(tmp_path / "whole", "focus.csv", data, chunk=None)
    ingest(Workspace.open(whole), settle_seconds=0)
    assert (
        _facts_staged(root)["quarantine"]
        == _facts_staged(whole)["quarantine"]
        == [(11, "(every column)", "duplicate line: identical to row 1 in every column")]
    )
    assert _facts_staged(root)["staged"].equals(_facts_staged(whole)["staged"])
