"""The corpus: every real billing and telemetry file (../shared/samples/billing, ../shared/samples/
telemetry) and every real-layout fixture (tests/fixtures/billing, tests/fixtures/telemetry), each
through `costledger run` on its own fresh workspace, as a user feeds it.

A billing file's own total is computed here, never by the project's adapters: the csv module (or
JSON lines) and Decimal over the file's cost column, found from a table of known cost headers per
layout; the ledger must equal it exactly, except the rounding residual the load message reports
for amounts with more than 18 decimals (ledger + residual == file total, exactly). For telemetry,
the loaded GPU samples per metric equal the file's sample lines (points, for API answers) per
metric, counted here by a regular expression. Each file's expected verdict is in EXPECTED (files
not listed must load): a file the pipeline cannot read, or whose verdict changes, fails. A fixture
folder may hold a `costledger.toml` (the workspace config its files need, e.g. a dates setting) and
a README.md; neither is a case.
The table (file, format, rows in, loaded, quarantined, file total, ledger total, verdict) is
written to corpus_table.txt under the pytest tmp dir and printed (`-s` shows it)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import SAMPLES, samples_or_skip

pytestmark = pytest.mark.slow
runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# telemetry files are given this modification time: exposition scrapes without a timestamp are
# dated by it (2026-01-15 10:00:00 UTC), so every run builds the same month
SCRAPE_TIME = datetime(2026, 1, 15, 10, 0, tzinfo=UTC).timestamp()

# file (relative to the samples or fixtures folder) -> (verdict, words of the load message)
# verdicts: loaded (every row), empty (a header only), refused (exit 2, nothing loaded),
# catalogue (dcgm-exporter's counters file: loads, stages no samples)
_SCENARIOS = "billing/focus-spec/commitment_discount_scenarios"
_NOT_FOCUS = (
    "closest is FOCUS (found ['BilledCost', 'EffectiveCost', 'BillingPeriodStart', 'ChargePeriodStart', "
    "'ChargePeriodEnd', 'ChargeCategory'], missing ['BillingCurrency', 'ProviderName'])"
)
EXPECTED: dict[str, tuple[str, str]] = {
    "billing/aws-cur2-schema/cur2_default_export_columns.txt": ("refused", "unrecognised billing format"),
    "billing/aws-cur2-schema/focus_1_2_aws_export_columns.txt": ("refused", "unrecognised billing format"),
    "billing/aws-cur2-schema/glue_table_columns_cur2_focus12.csv": ("refused", "unrecognised billing format"),
    "billing/azure-ea/EA_NoRows.csv": ("empty", "header only"),
    "billing/focus-1.0/license.md": ("refused", "not a readable CSV file"),
    "billing/focus-spec/focus_columns_by_version.csv": ("refused", "unrecognised billing format"),
    # the spec's worked examples are excerpts without BillingCurrency and ProviderName (both
    # mandatory): loading them would mean guessing a currency, so they are refused naming both
    **{
        f"{_SCENARIOS}/commitment_discount_{kind}_scenario_{n}.csv": ("refused", _NOT_FOCUS)
        for kind, count in (("purchase", 3), ("usage", 4))
        for n in range(1, count + 1)
    },
    "telemetry/dcgm/default-counters.csv": ("catalogue", "metrics declared, no samples"),
}

# Cost columns per layout, in the order tried: (layout, cost header, currency header, measure).
# The measure is the ledger total the column equals: billed, or effective (an Azure amortized
# export, whose commitment-covered usage carries its amortized cost; see _azure_measure).
COST_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("focus", "BilledCost", "BillingCurrency", "billed"),
    ("aws-cur-legacy", "lineItem/UnblendedCost", "lineItem/CurrencyCode", "billed"),
    ("aws-cur2", "line_item_unblended_cost", "line_item_currency_code", "billed"),
    ("oracle-cost-report", "cost/myCost", "cost/currencyCode", "billed"),
    ("gcp", "cost", "currency", "billed"),  # plus the row's credits, see _gcp_cost
    ("azure", "CostInBillingCurrency", "BillingCurrency", "azure"),
    ("azure", "costInBillingCurrency", "billingCurrency", "azure"),
    ("azure", "PreTaxCost", "Currency", "azure"),
    ("azure", "Cost", "BillingCurrency", "azure"),
    ("azure", "Cost", "Currency", "azure"),
)
# Files beside the fixtures that are not inputs: a folder's extra settings, its notes
_NOT_CASES = ("costledger.toml", "README.md")
# Localised Azure headers: a translated name with the English one in brackets
_BRACKETED = re.compile(r"^.*\(([^()]+)\)\s*$")
# DCGM's blank values ("not supported"), which carry no reading: int64 and int32 blanks, NaN
_INT64_BLANK, _INT32_BLANK = 0x7FFFFFFFFFFFFFF0, 0x7FFFFFF0
_SAMPLE_LINE = re.compile(
    r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{.*\})?\s+([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))(?:\s|$)"
)
_RESIDUAL = re.compile(r"(\d+) (\S+) value\(s\) had more than 18 decimals.*?exact total residual (-?[0-9.]+)")


def _corpus() -> list:
    cases = []
    for base, label in ((SAMPLES, "samples"), (FIXTURES, "fixtures")):
        for source in ("billing", "telemetry"):
            folder = base / source
            if folder.is_dir():
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    if base == FIXTURES and path.name in _NOT_CASES:
                        continue
                    relative = path.relative_to(base).as_posix()
                    cases.append(pytest.param(source, path, relative, label, id=f"{label}/{relative}"))
    if not (SAMPLES / "billing").is_dir() or not (SAMPLES / "telemetry").is_dir():
        cases.append(
            pytest.param("absent", SAMPLES, "", "samples", id="shared-samples-present")
        )  # fails in CI, skips locally
    return cases


@dataclass
class Outcome:
    file: str
    detected: str | None = None
    rows_in: int | None = None
    loaded: int | None = None
    quarantined: int | None = None
    file_total: str = ""
    ledger_total: str = ""
    verdict: str = "?"


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory):
    outcomes: list[Outcome] = []
    yield outcomes
    header = ("file", "detected format", "rows in", "loaded", "quarantined", "file total", "ledger total", "verdict")
    counts = lambda o: (str(v) if v is not None else "-" for v in (o.rows_in, o.loaded, o.quarantined))  # noqa: E731
    rows = [header] + [
        (o.file, o.detected or "-", *counts(o), o.file_total or "-", o.ledger_total or "-", o.verdict) for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-|-".join("-" * width for width in widths))
    text = "\n".join(lines) + "\n"
    target = tmp_path_factory.getbasetemp() / "corpus_table.txt"
    target.write_text(text, encoding="utf-8")
    print(f"\ncorpus table ({target}):\n{text}")


@pytest.mark.parametrize(("source", "path", "relative", "label"), _corpus())
def test_file_through_costledger_run(
    source: str, path: Path, relative: str, label: str, tmp_path: Path, table: list[Outcome]
) -> None:
    if source == "absent":
        samples_or_skip("billing")
        samples_or_skip("telemetry")
        return
    verdict, words = EXPECTED.get(relative, ("loaded", ""))
    outcome = Outcome(file=f"{label}/{relative}")
    table.append(outcome)
    currency = _currency(path) if source == "billing" else None
    ws = _workspace(tmp_path, source, path, reporting_currency=currency)

    result = runner.invoke(app, ["run", "-w", str(ws)])

    assert "Traceback" not in result.output, result.output
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        load = con.execute(
            "select detected_format, rows_in, rows_loaded, rows_quarantined, status, message from meta.loads"
        ).fetchone()
        quarantined_rows = {r[0] for r in con.execute("select row_number from meta.quarantine").fetchall()}
        ledger = con.execute(
            "select coalesce(sum(source_amount), 0), coalesce(sum(source_effective_amount), 0), count(*) "
            "from ledger.cost_ledger where source = 'billing'"
        ).fetchone()
        samples = dict(con.execute("select metric, count(*) from staging.gpu_samples group by metric").fetchall())
    assert load is not None, result.output
    detected, rows_in, loaded, quarantined, status, message = load
    outcome.detected, outcome.rows_in, outcome.loaded, outcome.quarantined = detected, rows_in, loaded, quarantined
    assert rows_in == loaded + quarantined  # nothing lost

    if verdict == "refused":
        outcome.verdict = "refused"
        assert result.exit_code == 2, result.output
        assert status == "rejected" and loaded == 0 and ledger[2] == 0 and not samples
        assert words in message, message
        assert relative.rsplit("/", 1)[-1] in result.output  # the file's line names it
        return
    assert result.exit_code == 0, result.output
    assert status == "loaded" and quarantined == 0, (message, result.output)
    assert words in message, message
    if verdict == "empty":
        assert rows_in == 0 and ledger[2] == 0
        outcome.verdict, outcome.file_total, outcome.ledger_total = "empty", "0", "0"
        return
    if source == "billing":
        assert rows_in > 0
        measure, total = _file_total(path, skip_rows=quarantined_rows)
        residual = _residual(message)
        got = ledger[0] if measure == "billed" else ledger[1]
        outcome.file_total, outcome.ledger_total = f"{total} {currency}", f"{got} ({measure})"
        assert got + residual == total, (got, residual, total, message)
        outcome.verdict = "loaded, exact" + (f" (residual {residual:f})" if residual else "")
        return
    lines = _sample_lines(path)
    if verdict == "catalogue":
        assert lines == {} and samples == {}
        outcome.verdict = "catalogue, 0 samples"
        return
    assert lines, f"{relative}: no sample lines counted; is it a telemetry format the test knows?"
    differ = {m: (samples.get(m), lines.get(m)) for m in set(samples) | set(lines) if samples.get(m) != lines.get(m)}
    assert samples == lines, differ  # (loaded, lines in the file) per metric
    outcome.file_total = f"{sum(lines.values())} samples, {len(lines)} metrics"
    outcome.ledger_total = f"{sum(samples.values())} samples loaded"
    outcome.verdict = "loaded, samples per metric equal"


def test_the_installed_entry_point_runs_a_sample(tmp_path: Path) -> None:
    """One sample through the `costledger` executable itself, in its own process."""
    sample = samples_or_skip("telemetry", "dcgm", "nvidia-aicr_eks-p5-h100__accelerator-metrics.prom")
    exe = Path(sys.executable).with_name("costledger")
    assert exe.exists(), exe
    ws = tmp_path / "ws"
    subprocess.run([str(exe), "init", str(ws)], check=True, capture_output=True)
    shutil.copyfile(sample, ws / "inbox" / "telemetry" / sample.name)
    os.utime(ws / "inbox" / "telemetry" / sample.name, (SCRAPE_TIME, SCRAPE_TIME))
    done = subprocess.run([str(exe), "run", "-w", str(ws)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "published: 2026-01"  # the scrape time's month
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        # 30 sample lines: 8 GPUs x (GPU_TEMP, POWER_USAGE, GPU_UTIL) + MEM_COPY_UTIL of GPUs 0-5
        assert con.execute("select count(*) from staging.gpu_samples").fetchone()[0] == 30


def _workspace(tmp_path: Path, source: str, path: Path, *, reporting_currency: str | None) -> Path:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    settings = path.parent / "costledger.toml"
    if path.is_relative_to(FIXTURES) and settings.is_file():  # the folder's own config replaces the default
        shutil.copyfile(settings, ws / "costledger.toml")
    if reporting_currency:
        config = ws / "costledger.toml"
        text = config.read_text(encoding="utf-8")
        line = f'reporting_currency = "{reporting_currency}"'
        text, count = re.subn(r'(?m)^reporting_currency = "[A-Z]{3}"$', line, text)
        config.write_text(text if count else f"{line}\n{text}", encoding="utf-8")
    target = ws / "inbox" / source / path.name
    shutil.copyfile(path, target)
    if source == "telemetry":
        os.utime(target, (SCRAPE_TIME, SCRAPE_TIME))
    return ws


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _header_name(name: str) -> str:
    match = _BRACKETED.match(name.strip())
    return (match.group(1) if match else name).strip()


def _records(path: Path) -> list[dict[str, object]] | None:
    """The file's rows as dicts (CSV via the csv module, or JSON lines), headers as their English
    name; None when it is neither."""
    text = _text(path)
    if text is None or not text.strip():
        return None
    if text.lstrip().startswith("{"):
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            return None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [_header_name(h) for h in next(reader, [])]
    return [dict(zip(header, row, strict=False)) for row in reader if row]


def _layout(records: list[dict[str, object]]) -> tuple[str, str, str, str] | None:
    columns = set(records[0]) if records else set()
    for layout, cost, currency, measure in COST_COLUMNS:
        if layout == "gcp" and "billing_account_id" not in columns:
            continue
        if cost in columns:
            return layout, cost, currency, measure
    return None


def _currency(path: Path) -> str | None:
    """The file's one billing currency (the workspace reports in it), None for no rows or several."""
    records = _records(path)
    found = _layout(records) if records else None
    if found is None:
        return None
    values = {str(r.get(found[2]) or "").strip() for r in records} - {""}
    return values.pop() if len(values) == 1 else None


def _file_total(path: Path, *, skip_rows: set[int]) -> tuple[str, Decimal]:
    """(measure, total of the cost column over the rows not quarantined); rows number from 1."""
    records = _records(path)
    assert records, f"{path}: no rows read by the csv module"
    found = _layout(records)
    assert found is not None, f"{path}: no known cost column among {sorted(records[0])}"
    layout, cost, _, measure = found
    total = Decimal(0)
    for number, record in enumerate(records, start=1):
        if number in skip_rows:
            continue
        value = Decimal(str(record[cost]).strip() or "0")
        total += value + (_gcp_credits(record) if layout == "gcp" else 0)
    if measure == "azure":
        measure = _azure_measure(records)
    return measure, total


def _gcp_credits(record: dict[str, object]) -> Decimal:
    """GCP bills cost plus the row's credits (negative amounts); the CSV writes them as a list."""
    credits = record.get("credits")
    if isinstance(credits, str):
        credits = json.loads(credits.replace("'", '"')) if credits.strip() not in ("", "[]", "{}") else []
    return sum((Decimal(str(c["amount"])) for c in credits or []), Decimal(0))


def _azure_measure(records: list[dict[str, object]]) -> str:
    """Azure's amortized export gives usage covered by a reservation or savings plan its amortized
    cost, and unused commitment rows: its cost column is the effective cost; an actual export's
    is the billed cost (covered usage 0, purchases at their price)."""
    lowered = [{k.lower(): str(v).strip().lower() for k, v in r.items()} for r in records]
    for row in lowered:
        charge, model = row.get("chargetype", ""), row.get("pricingmodel", "")
        cost = row.get("costinbillingcurrency") or row.get("cost") or row.get("pretaxcost") or "0"
        if charge in ("unusedreservation", "unusedsavingsplan"):
            return "effective"
        if charge == "usage" and model in ("reservation", "savingsplan") and Decimal(cost) != 0:
            return "effective"
    return "billed"


def _residual(message: str) -> Decimal:
    """The exact residual the load message reports for rounded cost columns (0 if none)."""
    residual = Decimal(0)
    for _, column, amount in _RESIDUAL.findall(message):
        if re.sub(r"[^a-z]", "", column.lower()) in (
            "cost",
            "billedcost",
            "effectivecost",
            "costinbillingcurrency",
            "pretaxcost",
            "lineitemunblendedcost",
            "unblendedcost",
        ):
            residual += Decimal(amount)
    return residual


def _blank(value: str) -> bool:
    if value.lower() in ("nan", "+inf", "-inf", "inf"):
        return True
    try:
        number = int(value)
    except ValueError:
        return False
    return number >= _INT64_BLANK or _INT32_BLANK <= number <= 0x7FFFFFFF


def _sample_lines(path: Path) -> dict[str, int]:
    """Readings per metric, counted from the file: exposition sample lines, or the points of
    Prometheus API answers; a DCGM blank value is no reading."""
    text = _text(path) or ""
    counts: dict[str, int] = {}
    if text.lstrip().startswith("{"):
        for series in json.loads(text)["data"]["result"]:
            points = series.get("values") or [series["value"]]
            name = series["metric"]["__name__"]
            counts[name] = counts.get(name, 0) + sum(not _blank(str(p[1])) for p in points)
        return counts
    for line in text.splitlines():
        match = _SAMPLE_LINE.match(line.strip())
        if match and not line.lstrip().startswith("#") and not _blank(match.group(2)):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts
