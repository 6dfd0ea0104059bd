"""The bad-input corpus: every kind of broken delivery, across the sources, against a workspace
that already holds a published ledger. Each case asserts the exit code, the words of the message
(file, row, column, cause) and that nothing else was lost or changed: the published period is
byte-identical, the earlier loads are untouched, and every file balances
(rows in = rows loaded + rows quarantined, checked against raw, staging and meta.quarantine)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.check_queries import load_balance_sql
from pipeline.cli import app
from pipeline.workspace import Workspace
from tests.conftest import read_warehouse, without_progress
from tests.factories import TWO_MODELS

runner = CliRunner()

CONFIG = (
    TWO_MODELS
    + """\
[attribution]
tag_keys = ["model"]
"""
)
HEADER = (
    "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,ProviderName,ServiceName,Tags"
)


def focus_row(cost: str = "10.00", *, day: str = "2026-02-03", period: str = "2026-02", model: str = "m1") -> str:
    start = f"{period}-01 00:00:00"
    end = {"2026-01": "2026-02-01 00:00:00", "2026-02": "2026-03-01 00:00:00"}[period]
    tags = json.dumps({"model": model}).replace('"', '""')
    return f'{cost},{cost},USD,{start},{end},{day} 00:00:00,{day} 01:00:00,Usage,AWS,Amazon EC2,"{tags}"'


def focus(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


GOOD_FEB = focus(focus_row("10.00"), focus_row("2.50", model="m2"), focus_row("0.25", day="2026-02-04"))
USAGE_HEADER = "usage_date,model_id,requests"
PROM = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {
                "metric": {
                    "__name__": "DCGM_FI_DEV_GPU_UTIL",
                    "Hostname": "gpu-node-1",
                    "gpu": "0",
                    "namespace": "search",
                    "pod": "ranker-0",
                },
                "values": [[1770076800, "50"], [1770076860, "60"]],
            },
        ],
    },
}


@dataclass
class Case:
    name: str
    files: dict[str, bytes]  # inbox-relative path -> bytes
    exit_code: int
    words: list[str] = field(default_factory=list)  # in the CLI's output
    quarantine: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, words of the reason)
    loaded_rows: int | None = None  # rows of the case's file that reached staging
    config: str | None = None  # replaces costledger.toml
    note: str | None = None  # words of the case's meta.loads message (a file that loaded)
    hidden: list[str] = field(default_factory=list)  # never in the output nor in meta (HR pay)


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


CASES: list[Case] = [
    # ---- whole-file problems: exit 2, the file is recorded as rejected, nothing of it loads
    Case(
        "truncated gzip",
        {"billing/feb.csv.gz": _gz(GOOD_FEB)[:60]},
        2,
        ["billing/feb.csv.gz", "truncated or corrupt gzip"],
    ),
    Case(
        "wrong delimiter",
        {"billing/feb.csv": GOOD_FEB.replace(b",", b";")},
        2,
        ["billing/feb.csv", "row 0", "unrecognised billing format", "BilledCost"],
    ),
    Case(
        "missing mandatory column",
        {"billing/feb.csv": GOOD_FEB.replace(b"EffectiveCost,", b"Effective,")},
        2,
        ["billing/feb.csv", "row 0", "EffectiveCost"],
    ),
    Case("empty file", {"billing/feb.csv": b""}, 2, ["billing/feb.csv", "empty file"]),
    Case("blank lines only", {"usage/u.csv": b"\n\n  \n"}, 2, ["usage/u.csv", "empty file"]),
    Case(
        "non-UTF-8 bytes",
        {"billing/feb.csv": GOOD_FEB.replace(b"Amazon EC2", b"Amaz\xf3n EC2")},
        2,
        ["billing/feb.csv", "not UTF-8", "0xf3", "line 2"],
    ),
    Case(
        "usage missing a mandatory column",
        {"usage/u.csv": b"usage_date,model_id\n2026-02-01,m1\n"},
        2,
        ["usage/u.csv", "row 0", "requests"],
    ),
    Case(
        "telemetry truncated JSON",
        {"telemetry/t.json": json.dumps(PROM).encode()[:80]},
        2,
        ["telemetry/t.json", "not valid JSON", "line 1"],
    ),
    Case(
        "telemetry not a Prometheus answer",
        {"telemetry/t.json": b'{"hello": 1}'},
        2,
        ["telemetry/t.json", "resultType"],
    ),
    Case(
        "multi-part export with a part missing",
        {
            "billing/export/manifest.json": json.dumps(
                {"reportKeys": ["cur/export-1.csv", "cur/export-2.csv"]}
            ).encode(),
            "billing/export/export-1.csv": GOOD_FEB,
        },
        2,
        ["billing/export/", "part 2 of 2", "export-2.csv", "is missing", "none of its parts"],
    ),
    Case(
        "bad row under the reject_file policy",
        {"billing/feb.csv": focus(focus_row("10.00"), focus_row("ten"))},
        2,
        [
            "billing/feb.csv",
            "row 2",
            "'BilledCost'",
            "expected an exact decimal",
            "'ten'",
            "nothing of this file was loaded",
            "reject_file",
        ],
        # no row loads, yet both are kept: the bad one with its reason, the good one as not loaded
        quarantine=[
            (
                1,
                "(file)",
                "not loaded: the file is rejected for its bad rows (first: row 2; bad_rows.billing = 'reject_file')",
            ),
            (2, "BilledCost", "expected an exact decimal"),
        ],
        config=CONFIG + '[bad_rows]\nbilling = "reject_file"\n',
    ),
    Case(
        "bad row of usage under the reject_file policy",
        {"usage/u.csv": b"usage_date,model_id,requests\n2026-02-01,m1,10\n2026-02-02,m1,ten\n2026-02-03,m1,12\n"},
        2,
        ["usage/u.csv", "row 2", "'requests'", "expected a whole number", "'ten'", "bad_rows.usage = 'reject_file'"],
        quarantine=[
            (1, "(file)", "not loaded"),
            (2, "requests", "expected a whole number"),
            (3, "(file)", "not loaded"),
        ],
        config=CONFIG + '[bad_rows]\nusage = "reject_file"\n',
    ),
    Case(
        "fx file with the wrong delimiter",
        {"fx/fx.csv": b"rate_date;currency;rate\n2026-02-01;EUR;1.08\n"},
        2,
        ["fx/fx.csv", "row 0", "unrecognised fx file", "rate_date;currency;rate"],
    ),
    Case(
        "HR allocations over 100%",
        {"labor/alloc.csv": b"month,person_id,model_id,percent\n2026-02,p1,m1,70\n2026-02,p1,m2,40\n"},
        2,
        ["labor/alloc.csv", "column 'percent'", "is allocated", "at most 100%", "nothing of this file was loaded"],
        quarantine=[(1, "percent", "add up to more than 100%"), (2, "percent", "add up to more than 100%")],
    ),
    Case(
        "HR non-numeric percent",
        {"labor/alloc.csv": b"month,person_id,model_id,percent\n2026-02,p1,m1,seventy\n"},
        2,
        ["labor/alloc.csv", "row 1", "'percent'", "'seventy'", "nothing of this file was loaded"],
        quarantine=[(1, "percent", "expected")],
    ),
    Case(
        "HR people file with a negative cost",
        {
            "labor/people.csv": b"person_id,role,currency,monthly_cost\n"
            b"p1,engineer,USD,9000.00\np2,engineer,USD,-9000.00\n"
        },
        2,
        [
            "labor/people.csv",
            "row 2",
            "'monthly_cost'",
            "0 or more",
            "value withheld",
            "nothing of this file was loaded",
        ],
        hidden=["9000"],
        quarantine=[
            (1, "(file)", "an HR file loads whole or not at all"),
            (2, "monthly_cost", "expected a monthly cost of 0 or more"),
        ],
    ),
    # ---- config errors: exit 2, nothing is read or changed
    Case(
        "config: unknown key",
        {},
        2,
        ["costledger.toml", "colour", "Extra inputs are not permitted"],
        config=CONFIG + 'colour = "blue"\n',
    ),
    Case(
        "config: bad regex",
        {},
        2,
        ["costledger.toml", "attribution.rules.0.pattern", "bad regular expression", "[unclosed"],
        config=CONFIG.replace("[attribution]", "") + '[attribution]\ntag_keys = ["model"]\n'
        '[[attribution.rules]]\nfield = "SubAccountId"\npattern = "[unclosed"\nmodel = "m1"\n',
    ),
    Case(
        "config: shared pool refers to itself",
        {},
        2,
        ["costledger.toml", "shared pool 'support' refers to itself"],
        config=CONFIG + '[[shared_pools]]\nname = "support"\nservice_name = "Support"\n'
        'policy = "fixed"\nweights = { support = 1, m1 = 1 }\n',
    ),
    Case(
        "config: shared pool weights the __shared__ bucket",
        {},
        2,
        ["costledger.toml", "refers to itself"],
        config=CONFIG
        + '[[shared_pools]]\nname = "tax"\ncharge_category = "Tax"\npolicy = "fixed"\nweights = { __shared__ = 1 }\n',
    ),
    Case("config: not TOML", {}, 2, ["costledger.toml", "not valid TOML"], config=CONFIG + "models = [\n"),
    Case(
        "config: unknown bad-row policy",
        {},
        2,
        ["costledger.toml", "bad_rows.billing", "quarantine", "reject_file"],
        config=CONFIG + '[bad_rows]\nbilling = "ignore"\n',
    ),
    Case(
        "config: HR rows may not be quarantined",
        {},
        2,
        ["costledger.toml", "bad_rows.labor", "reject_file"],
        config=CONFIG + '[bad_rows]\nlabor = "quarantine"\n',
    ),
    Case(
        "config: a file:// remote source outside the workspace",
        {},
        2,
        [
            "costledger.toml",
            "remote_sources.0.uri",
            "'file:///etc/'",
            "resolves to /etc",
            "outside the workspace",
            "allowed_roots",
        ],
        config=CONFIG + '[[remote_sources]]\nsource = "billing"\nuri = "file:///etc/"\n',
    ),
    Case(
        "config: a file:// remote source climbing out with ..",
        {},
        2,
        ["costledger.toml", "remote_sources.0.uri", "outside the workspace"],
        config=CONFIG + '[[remote_sources]]\nsource = "usage"\nuri = "file://{ws}/../"\n',
    ),
    # ---- row problems: exit 0, the bad rows are quarantined with row, column, value and reason
    Case(
        "non-numeric cost",
        {"billing/feb.csv": focus(focus_row("10.00"), focus_row("abc"))},
        0,
        quarantine=[(2, "BilledCost", "expected an exact decimal")],
        loaded_rows=1,
    ),
    Case(
        "NaN cost",
        {"billing/feb.csv": focus(focus_row("NaN"), focus_row("1.00"))},
        0,
        quarantine=[(1, "BilledCost", "expected an exact decimal")],
        loaded_rows=1,
    ),
    Case(
        "Inf cost",
        {"billing/feb.csv": focus(focus_row("1.00"), focus_row("-Infinity"))},
        0,
        quarantine=[(2, "BilledCost", "expected an exact decimal")],
        loaded_rows=1,
    ),
    Case(
        "cost beyond the decimal range",
        {"billing/feb.csv": focus(focus_row("123456789012345678901234.5"), focus_row("1.00"))},
        0,
        quarantine=[(1, "BilledCost", "within +/-1e12")],
        loaded_rows=1,
    ),
    Case(
        "negative requests",
        {"usage/u.csv": b"usage_date,model_id,requests\n2026-02-01,m1,10\n2026-02-02,m1,-5\n"},
        0,
        quarantine=[(2, "requests", "expected 0 or more requests")],
        loaded_rows=1,
    ),
    Case(
        "non-positive FX rate",
        {"fx/fx.csv": b"rate_date,currency,rate\n2026-02-01,EUR,1.08\n2026-02-02,EUR,0\n"},
        0,
        quarantine=[(2, "rate", "expected a positive rate")],
        loaded_rows=1,
    ),
    Case(
        "salvage above price",
        {
            "assets/a.csv": b"asset_id,hostname,gpu_count,in_service_date,useful_life_months,price,salvage_value,"
            b"maintenance_per_month,currency\n"
            b"a1,h1,8,2025-01-01,36,100000.00,200000.00,0,USD\n"
        },
        2,
        # its only row quarantined: 100% > quarantine.max_share 0.5, so the run exits 2 saying so
        words=["1 rows in, 0 loaded, 1 quarantined (100.0%, more than quarantine.max_share = 0.5): salvage_value"],
        quarantine=[(1, "salvage_value", "no larger than price")],
        loaded_rows=0,
    ),
    Case(
        "duplicate line items",
        {"billing/feb.csv": focus(focus_row("10.00"), focus_row("2.00"), focus_row("10.00"))},
        0,
        quarantine=[(3, "(every column)", "duplicate line: identical to row 1")],
        loaded_rows=2,
    ),
    Case(
        "two usage figures for one day and model",
        {"usage/u.csv": b"usage_date,model_id,requests\n2026-02-01,m1,10\n2026-02-01,m1,12\n"},
        0,
        quarantine=[(2, "usage_date+model_id", "row 1 already gives it")],
        loaded_rows=1,
    ),
    Case(
        "charge after its billing period",
        {"billing/feb.csv": focus(focus_row("1.00"), focus_row("2.00", day="2026-03-05"))},
        0,
        quarantine=[(2, "ChargePeriodStart", "outside the billing period")],
        loaded_rows=1,
    ),
    Case(
        "charge long before its billing period",
        {"billing/feb.csv": focus(focus_row("1.00"), focus_row("2.00", day="2025-06-05"))},
        0,
        quarantine=[(2, "ChargePeriodStart", "more than 92 days before")],
        loaded_rows=1,
    ),
    Case(
        "timestamp in an unknown format",
        {
            "billing/feb.csv": focus(
                focus_row("1.00"), focus_row("2.00").replace("2026-02-03 00:00:00", "03/02/2026 00h", 1)
            )
        },
        0,
        quarantine=[(2, "ChargePeriodStart", "expected a timestamp")],
        loaded_rows=1,
    ),
    Case(
        "a future date",
        {"usage/u.csv": b"usage_date,model_id,requests\n2026-02-01,m1,10\n2099-02-02,m1,5\n"},
        0,
        quarantine=[(2, "usage_date", "a date in the future")],
        loaded_rows=1,
    ),
    Case(
        "truncated CSV (last line cut)",
        {"usage/u.csv": b"usage_date,model_id,requests\n2026-02-01,m1,10\n2026-02-02,m1"},
        0,
        quarantine=[(2, "requests", "required value is missing")],
        loaded_rows=1,
    ),
    Case(
        "vendor charge of an unknown category",
        {
            "charges/vendor.csv": b"invoice_id,vendor,category,subcategory,service_start,service_end,amount,"
            b"currency,model_id\n"
            b"INV-1,Acme,data,labelling,2026-02-01,2026-02-28,500.00,USD,m1\nINV-2,Acme,marketing,ads,2026-02-01,2026-02-28,90.00,USD,m1\n"
        },
        0,
        quarantine=[(2, "category", "expected one of")],
        loaded_rows=1,
    ),
    Case(
        "negative cost of delay",
        {
            "milestones/m.csv": b"model_id,milestone,planned_date,actual_date,cost_of_delay_per_day,currency\n"
            b"m1,launch,2026-02-10,2026-02-12,100.00,USD\nm2,beta,2026-02-11,,-5.00,USD\n"
        },
        0,
        quarantine=[(2, "cost_of_delay_per_day", "expected 0 or more")],
        loaded_rows=1,
    ),
    Case(
        "optimisation log date in an unknown format",
        {"optimizations/o.csv": b"action_date,model_id,action\n2026-02-01,m1,quantise\nlast tuesday,m1,batch\n"},
        0,
        quarantine=[(2, "action_date", "expected a date")],
        loaded_rows=1,
    ),
    Case(
        "telemetry series without a host label",
        {
            "telemetry/t.json": json.dumps(
                {
                    "status": "success",
                    "data": {
                        "resultType": "matrix",
                        "result": [
                            PROM["data"]["result"][0],
                            {"metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "1"}, "values": [[1770076800, "5"]]},
                        ],
                    },
                }
            ).encode()
        },
        0,
        quarantine=[(2, "Hostname", "Hostname")],
        loaded_rows=1,
    ),
    # ---- deliveries that are fine, or no-ops: exit 0, nothing quarantined, nothing doubled
    Case(
        "extra columns",
        {
            "billing/feb.csv": GOOD_FEB.replace(HEADER.encode(), HEADER.encode() + b",x_Team").replace(
                b'"\n', b'",search\n'
            )
        },
        0,
        loaded_rows=3,
    ),
    Case(
        "header-only file",
        {"billing/feb.csv": focus()},
        0,
        loaded_rows=0,
        note="0 rows loaded; header only: the file has no data rows",
    ),
    Case(
        "header-only usage file",
        {"usage/u.csv": b"usage_date,model_id,requests\n"},
        0,
        loaded_rows=0,
        note="header only",
    ),
    Case("header-only HR file", {"labor/people.csv": b"person_id,role,currency,monthly_cost\n"}, 0, note="header only"),
    Case(
        "telemetry answer with no series",
        {
            "telemetry/t.json": json.dumps(
                {"status": "success", "data": {"resultType": "matrix", "result": []}}
            ).encode()
        },
        0,
        loaded_rows=0,
        note="header only",
    ),
    Case("byte-order mark", {"billing/feb.csv": b"\xef\xbb\xbf" + GOOD_FEB}, 0, loaded_rows=3),
    Case("CRLF line ends", {"billing/feb.csv": GOOD_FEB.replace(b"\n", b"\r\n")}, 0, loaded_rows=3),
    Case(
        "multi-part export complete",
        {
            "billing/export/manifest.json": json.dumps(
                {"reportKeys": ["cur/export-1.csv", "cur/export-2.csv"]}
            ).encode(),
            "billing/export/export-1.csv": focus(focus_row("1.00")),
            "billing/export/export-2.csv": focus(focus_row("2.00")),
        },
        0,
    ),
]


def _digest(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> str:
    return hashlib.sha256(repr(con.execute(query, params or []).fetchall()).encode()).hexdigest()


def _state(ws: Path) -> dict[str, str]:
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        return {
            "ledger 2026-01": _digest(
                con, "select * from ledger.cost_ledger where billing_period = '2026-01' order by all"
            ),
            "loads": _digest(
                con, "select load_id, status, rows_in, rows_loaded, rows_quarantined from meta.loads order by all"
            ),
            "staging.billing": _digest(con, "select * from staging.billing order by all"),
            "staging.usage": _digest(con, "select * from staging.usage order by all"),
            "quarantine": _digest(con, "select * from meta.quarantine order by all"),
        }


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with January billing and usage loaded and published."""
    ws = Workspace.init(tmp_path_factory.mktemp("base") / "ws", config_text=CONFIG).root
    (ws / "inbox" / "billing" / "jan.csv").write_bytes(
        focus(
            focus_row("100.00", day="2026-01-05", period="2026-01"),
            focus_row("7.25", day="2026-01-06", period="2026-01", model="m2"),
        )
    )
    (ws / "inbox" / "usage" / "jan.csv").write_bytes(b"usage_date,model_id,requests\n2026-01-05,m1,1000\n")
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    return ws


FIGURES = {"inputs": 0, "clear_errors": 0, "rows_lost": 0}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, published: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(published, ws)
    before = _state(ws)
    if case.config is not None:
        (ws / "costledger.toml").write_text(case.config.replace("{ws}", str(ws)))
    for relative, data in case.files.items():
        (ws / "inbox" / relative).parent.mkdir(parents=True, exist_ok=True)
        (ws / "inbox" / relative).write_bytes(data)

    result = runner.invoke(app, ["run", "-w", str(ws)])

    FIGURES["inputs"] += 1
    assert result.exit_code == case.exit_code, result.output
    assert "Traceback" not in result.output
    for word in case.words:
        assert word in result.output, (word, result.output)
    if case.exit_code == 2:
        # one line per file with quarantined or rejected rows, `published: ...`, then one error line
        # (warnings, such as an HR file readable by others, come before)
        lines = [line for line in without_progress(result.output) if not line.startswith("warning: ")]
        assert lines[-1].startswith("error: ") and not [line for line in lines[:-1] if line.startswith("error: ")], (
            lines
        )
        assert all(
            line.startswith(
                (
                    "published: ",
                    "billing/",
                    "telemetry/",
                    "labor/",
                    "usage/",
                    "fx/",
                    "assets/",
                    "charges/",
                    "milestones/",
                    "optimizations/",
                )
            )
            for line in lines[:-1]
        ), lines
        FIGURES["clear_errors"] += 1
    after = _state(ws)
    # nothing published before was changed; earlier loads keep their counts
    assert after["ledger 2026-01"] == before["ledger 2026-01"]
    with read_warehouse(ws) as con:
        loads = con.execute(
            "select path, status, rows_in, rows_loaded, rows_quarantined, message from meta.loads order by path"
        ).fetchall()
        assert [load[:5] for load in loads if load[0].endswith("jan.csv")] == [
            ("billing/jan.csv", "loaded", 2, 2, 0),
            ("usage/jan.csv", "loaded", 1, 1, 0),
        ]
        mine = [load for load in loads if load[0] in case.files]
        if case.config is not None and not case.files:
            assert after == before  # a config error stops the run before anything is read
        for path, status, rows_in, rows_loaded, rows_quarantined, message in mine:
            assert rows_in == rows_loaded + rows_quarantined
            FIGURES["rows_lost"] += rows_in - rows_loaded - rows_quarantined
            if case.exit_code == 2 and path in case.words[0] + "".join(case.words):
                assert status == "rejected" and rows_loaded == 0 and message
        balance = con.execute(
            load_balance_sql(con), {"period": None, "since": None, "source_days": None, "gpu_days": None}
        ).fetchall()
        assert all(row[-2] for row in balance), balance  # `balanced` for every loaded file
        quarantined = con.execute(
            'select row_number, "column", reason, value from meta.quarantine where path in (select '
            'unnest(?::varchar[])) order by row_number, "column"',
            [list(case.files)],
        ).fetchall()
        assert [(r, c) for r, c, _, _ in quarantined] == [(r, c) for r, c, _ in case.quarantine]
        for (_, _, reason, _), (_, _, words) in zip(quarantined, case.quarantine, strict=True):
            assert words in reason
        if any(path.startswith("labor/") for path in case.files):
            assert all(value is None for *_, value in quarantined)  # HR values stay in the file
        for secret in case.hidden:
            assert secret not in result.output
            assert not con.execute(
                "select count(*) from meta.quarantine where value like ? or reason like ?", [f"%{secret}%"] * 2
            ).fetchone()[0]
            assert not con.execute("select count(*) from meta.loads where message like ?", [f"%{secret}%"]).fetchone()[
                0
            ]
        if case.note is not None:
            (message,) = [load[5] for load in mine if load[1] == "loaded"]
            assert case.note in message, message
        if case.loaded_rows is not None:
            (rows_loaded,) = [load[3] for load in mine if load[1] == "loaded"]
            assert rows_loaded == case.loaded_rows
            staged = con.execute(
                "select count(distinct row_number) from (select load_id, row_number from staging.billing union all "
                "select load_id, row_number from staging.usage union all select load_id, row_number from "
                "staging.fx_rates union all "
                "select load_id, row_number from staging.assets union all select load_id, row_number from "
                "staging.gpu_samples union all "
                "select load_id, row_number from staging.charges union all select load_id, row_number from "
                "staging.milestones union all "
                "select load_id, row_number from staging.optimizations) "
                "where load_id in (select load_id from meta.loads where path in (select unnest(?::varchar[])))",
                [list(case.files)],
            ).fetchone()[0]
            assert staged == case.loaded_rows


def test_the_same_file_twice_and_renamed_is_a_no_op(published: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(published, ws)
    before = _state(ws)
    jan = ws / "inbox" / "billing" / "jan.csv"
    shutil.copy(jan, ws / "inbox" / "billing" / "jan-again.csv")  # delivered twice
    jan.rename(ws / "inbox" / "billing" / "renamed.csv")  # and renamed
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert without_progress(result.output) == ["published: nothing new"]
    assert _state(ws) == before  # no row loaded twice, the ledger unchanged


def test_a_byte_order_mark_loads_the_same_rows(published: Path, tmp_path: Path) -> None:
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    for ws, data in ((plain, GOOD_FEB), (marked, b"\xef\xbb\xbf" + GOOD_FEB)):
        shutil.copytree(published, ws)
        (ws / "inbox" / "billing" / "feb.csv").write_bytes(data)
        assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 0
    query = "select * exclude (load_id) from staging.billing order by all"
    with (
        duckdb.connect(str(plain / "warehouse.duckdb"), read_only=True) as a,
        duckdb.connect(str(marked / "warehouse.duckdb"), read_only=True) as b,
    ):
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_a_link_out_of_the_inbox_is_refused_unread(published: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(published, ws)
    secret = tmp_path / "secret.csv"
    secret.write_bytes(GOOD_FEB)
    (ws / "inbox" / "billing" / "link.csv").symlink_to(secret)
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 2
    assert "billing/link.csv: links outside the inbox; not read" in result.output
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select status, rows_in from meta.loads where path = 'billing/link.csv'").fetchall() == [
            ("rejected", 0)
        ]
        assert con.execute("select count(*) from staging.billing where x_BillingPeriod = '2026-02'").fetchone()[0] == 0


def test_the_missing_part_arriving_loads_the_whole_export(published: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(published, ws)
    folder = ws / "inbox" / "billing" / "export"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"reportKeys": ["cur/export-1.csv", "cur/export-2.csv"]}))
    (folder / "export-1.csv").write_bytes(focus(focus_row("1.00")))
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 2
    (folder / "export-2.csv").write_bytes(focus(focus_row("2.00", model="m2")))
    result = runner.invoke(app, ["run", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        # 1.00 + 2.00 = 3.00: both parts, once each
        assert (
            con.execute(
                "select sum(source_amount) from ledger.cost_ledger where billing_period = '2026-02'"
            ).fetchone()[0]
            == 3
        )
        assert (
            con.execute(
                "select count(*) from meta.loads where path like 'billing/export/%' and status = 'loaded'"
            ).fetchone()[0]
            == 3
        )


def test_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this module: the corpus's totals, for the closing note."""
    with capsys.disabled():
        print(
            f"\nbad-input corpus: {FIGURES['inputs']} inputs tried, {FIGURES['clear_errors']} clear errors, "
            f"{FIGURES['rows_lost']} rows lost"
        )
    assert FIGURES["rows_lost"] == 0


def test_the_report_lists_header_only_and_rejected_files_with_their_note(published: Path, tmp_path: Path) -> None:
    """Files dating no period (header only, rejected) show in the inputs table of the months
    reported after their delivery, with meta.loads' note, and their rows balance there too."""
    ws = tmp_path / "ws"
    shutil.copytree(published, ws)
    (ws / "costledger.toml").write_text(CONFIG + '[bad_rows]\nusage = "reject_file"\n')
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(GOOD_FEB)
    (ws / "inbox" / "usage" / "empty.csv").write_bytes(b"usage_date,model_id,requests\n")
    (ws / "inbox" / "usage" / "bad.csv").write_bytes(
        b"usage_date,model_id,requests\n2026-02-01,m1,10\n2026-02-02,m1,-1\n2026-02-03,m1,12\n"
    )
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 2  # bad.csv rejected, the rest published
    result = runner.invoke(app, ["report", "-w", str(ws), "--month", "2026-02"])
    assert result.exit_code == 0, result.output

    html = (ws / "reports" / "2026-02" / "index.html").read_text(encoding="utf-8")
    inputs = html[html.index('id="data-quality"') : html.index('id="methodology"')]
    rows = {
        path: inputs[inputs.index(f"<code>{path}</code>") :].split("</tr>")[0]
        for path in ("billing/feb.csv", "usage/empty.csv", "usage/bad.csv")
    }
    cells = lambda row: re.findall(r'<td class="num">([^<]*)</td>', row)  # noqa: E731
    assert cells(rows["billing/feb.csv"]) == ["3", "3", "0"]
    assert (
        cells(rows["usage/empty.csv"]) == ["0", "0", "0"]
        and "header only: the file has no data rows" in rows["usage/empty.csv"]
    )
    # 3 rows in = 0 loaded + 3 quarantined (row 2 bad, rows 1 and 3 not loaded with it)
    assert cells(rows["usage/bad.csv"]) == ["3", "0", "3"] and "rejected" in rows["usage/bad.csv"]
    assert "row 2, column &#39;requests&#39;: expected 0 or more requests" in rows["usage/bad.csv"]
    assert "<strong>3</strong>" in inputs  # the month's quarantined rows: bad.csv's 3
