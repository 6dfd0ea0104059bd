"""The parse step and the one writer: a file parsed ahead (pipeline.ingest.stage) is loaded from its
bundle only when the bundle was made from the same bytes by the same parser and configuration;
a rejected file's bundle keeps the message and its bad rows; HR files are never staged to the
shared work folder; bundles are deleted once loaded."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline import run
from pipeline.errors import CostLedgerError
from pipeline.ingest import bundle, pending, sha256, stage
from pipeline.workspace import Workspace

CONFIG = 'reporting_currency = "USD"\n'
RATES = "rate_date,currency,rate\n2026-01-02,EUR,1.10\n2026-01-05,GBP,1.25\n"
RATES_RESTATED = "rate_date,currency,rate\n2026-01-02,EUR,1.11\n2026-01-05,GBP,1.25\n"


def _workspace(tmp_path: Path, files: dict[str, str], config: str = CONFIG) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", config_text=config)
    for name, text in files.items():
        (ws.inbox / name).write_text(text, encoding="utf-8")
    return ws


def _cells(ws: Workspace, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def _rates(ws: Workspace) -> list[tuple]:
    return _cells(ws, "select rate_date, currency, rate from staging.fx_rates order by all")


def _tamper(folder: Path, rate: str) -> None:
    """Change the EUR rate in a bundle's rows (so a test can tell a loaded bundle from a parse)."""
    rows = pl.read_parquet(folder / "rows.parquet")
    rows = rows.with_columns(
        pl.when(pl.col("currency") == "EUR")
        .then(pl.lit(Decimal(rate)))
        .otherwise(pl.col("rate"))
        .cast(rows.schema["rate"])
        .alias("rate")
    )
    rows.write_parquet(folder / "rows.parquet")


def test_listing_then_parse_stages_a_bundle_the_writer_loads_and_deletes(tmp_path):
    ws = _workspace(tmp_path, {"fx/rates.csv": RATES})
    checksum = sha256(RATES.encode())
    listed = pending(ws)
    assert listed == [{"source": "fx", "path": "fx/rates.csv", "checksum": checksum}]
    assert stage(ws, "fx", listed[0]["path"]) == {"load_id": f"fx-{checksum[:16]}", "status": "parsed"}
    folder = bundle.root(ws) / f"fx-{checksum[:16]}"
    meta = json.loads((folder / "meta.json").read_text())
    # 2 rows in, 2 loaded, none quarantined; both dated January
    assert (meta["rows_in"], meta["rows_loaded"], meta["rows_quarantined"], meta["periods"]) == (2, 2, 0, ["2026-01"])
    assert (meta["format"], meta["path"], meta["checksum"], meta["error"]) == (
        "fx-rates-csv",
        listed[0]["path"],
        checksum,
        None,
    )
    _tamper(folder, "9.99")  # only a writer that reads the bundle can stage 9.99

    run.ingest(ws.root)
    assert _rates(ws) == [(date(2026, 1, 2), "EUR", Decimal("9.99")), (date(2026, 1, 5), "GBP", Decimal("1.25"))]
    assert not folder.exists() and list(bundle.root(ws).iterdir()) == []  # committed, then deleted
    assert pending(ws) == []  # loaded: nothing left to parse
    assert _cells(ws, "select rows_in, rows_loaded, rows_quarantined, status from meta.loads") == [(2, 2, 0, "loaded")]


def test_a_stale_bundle_of_other_bytes_is_ignored(tmp_path):
    ws = _workspace(tmp_path, {"fx/rates.csv": RATES})
    old = stage(ws, "fx", "fx/rates.csv")["load_id"]
    _tamper(bundle.root(ws) / old, "9.99")
    # The file is restated after it was parsed; its old bundle is also put where the writer looks
    # for the new bytes (as a 16-digit checksum prefix collision would): its full checksum differs.
    (ws.inbox / "fx" / "rates.csv").write_text(RATES_RESTATED, encoding="utf-8")
    new = f"fx-{sha256(RATES_RESTATED.encode())[:16]}"
    (bundle.root(ws) / old).rename(bundle.root(ws) / new)

    run.ingest(ws.root)
    # the restated file's own EUR rate, 1.11: neither 9.99 (the bundle) nor 1.10 (the old bytes)
    assert _rates(ws) == [(date(2026, 1, 2), "EUR", Decimal("1.11")), (date(2026, 1, 5), "GBP", Decimal("1.25"))]
    assert _cells(ws, "select load_id, checksum from meta.loads") == [(new, sha256(RATES_RESTATED.encode()))]
    assert list(bundle.root(ws).iterdir()) == []  # the stale bundle was swept too


@pytest.mark.parametrize("change", ["parser", "config"])
def test_a_bundle_of_another_parser_or_configuration_is_ignored(tmp_path, change):
    ws = _workspace(tmp_path, {"fx/rates.csv": RATES})
    folder = bundle.root(ws) / stage(ws, "fx", "fx/rates.csv")["load_id"]
    _tamper(folder, "9.99")
    if change == "parser":
        meta = json.loads((folder / "meta.json").read_text())
        (folder / "meta.json").write_text(json.dumps(meta | {"parser": "0" * 64}))
    else:  # a setting that changes parsing (the telemetry step) changed after the parse
        (ws.root / "costledger.toml").write_text(CONFIG + "telemetry_step_seconds = 30\n")

    run.ingest(ws.root)
    assert _rates(ws)[0] == (date(2026, 1, 2), "EUR", Decimal("1.10"))  # parsed again from the file


def test_a_rejected_files_bundle_keeps_the_message_and_its_bad_rows(tmp_path):
    rates = "rate_date,currency,rate\n2026-01-02,EUR,1.10\n2026-01-05,GBP,abc\n"
    config = CONFIG + '[bad_rows]\nfx = "reject_file"\n'
    ws = _workspace(tmp_path, {"fx/rates.csv": rates}, config)
    in_process = _workspace(tmp_path / "cli", {"fx/rates.csv": rates}, config)

    assert stage(ws, "fx", "fx/rates.csv")["status"] == "rejected"
    folder = bundle.root(ws) / f"fx-{sha256(rates.encode())[:16]}"
    found = bundle.find(ws, folder.name, sha256(rates.encode()))
    assert found is not None
    # row 2 of the file (GBP) has rate 'abc'; the reject_file policy rejects the whole file
    assert "rates.csv, row 2, column 'rate'" in found.error and "reject_file" in found.error
    # both rows are kept: row 2 for its bad rate, row 1 as not loaded because of it (rows in 2 =
    # 0 loaded + 2 quarantined)
    rejects = found.rejects()
    assert rejects.select("row_number", "column", "value").rows() == [(1, "(file)", None), (2, "rate", "abc")]

    run.ingest(ws.root)
    run.ingest(in_process.root)  # no bundle: parsed by the writer, as the CLI does
    query = "select status, replace(message, ?, ''), rows_in, rows_loaded, rows_quarantined from meta.loads"
    assert _cells(ws, query, [str(ws.root)]) == _cells(
        in_process, query, [str(in_process.root)]
    )  # the same but for the folder
    status, _, *counts = _cells(ws, query, [""])[0]
    assert (status, counts) == ("rejected", [2, 0, 2]) and _rates(ws) == []
    quarantine = 'select row_number, "column", value, reason from meta.quarantine order by all'
    assert _cells(ws, quarantine) == _cells(in_process, quarantine)
    assert [row[:3] for row in _cells(ws, quarantine)] == [(1, "(file)", None), (2, "rate", "abc")]
    assert not folder.exists()


def test_hr_rows_never_reach_the_shared_work_folder(tmp_path):
    people = (
        "person_id,name,role,cost_centre,monthly_salary,benefits,employer_taxes,currency,start_date,end_date\n"
        "P-7781,Ann Example,ml-engineer,CC1,8123.45,0,0,USD,,\n"
    )
    ws = _workspace(tmp_path, {"fx/rates.csv": RATES, "labor/people.csv": people})

    listed = pending(ws)
    assert [(f["source"], f["path"]) for f in listed] == [("fx", "fx/rates.csv")]  # HR is not listed
    with pytest.raises(CostLedgerError, match="parsed only by the writer"):
        stage(ws, "labor", "labor/people.csv")
    for file in listed:
        stage(ws, file["source"], file["path"])

    staged = [p for p in (ws.root / "work").rglob("*") if p.is_file()]
    assert staged, "the fx bundle should be there: the search below must have something to search"
    for path in staged:
        text = pl.read_parquet(path).cast(pl.String).write_csv() if path.suffix == ".parquet" else path.read_text()
        for secret in ("8123.45", "P-7781", "Ann Example"):
            assert secret not in text and secret.encode() not in path.read_bytes(), (secret, path)

    run.ingest(ws.root)  # the writer parses the HR file itself, into the restricted database
    assert _cells(ws, "select source, status from meta.loads order by source") == [
        ("fx", "loaded"),
        ("labor", "loaded"),
    ]
