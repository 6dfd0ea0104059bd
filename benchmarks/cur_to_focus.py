"""Benchmark (not a test): a legacy AWS CUR CSV to FOCUS, ours against the FinOps Foundation's
focus-converter.

Writes a deterministic legacy CUR CSV (default 1,000,000 line items: usage, savings-plan covered
usage with its negation, savings-plan fees, tax, credits; two resource tags) into a temporary
folder (never committed), then times:
- ours: `costledger convert` (the file to a FOCUS 1.2 Parquet file: detection, read as text,
  legacy -> CUR 2.0 names, typing with quarantine, the row checks ingest applies, FOCUS columns,
  exact), in-process and as the command. The raw layer (every delivered row as JSON) is made by
  DuckDB when ingest inserts it; that insert is timed on its own, outside the conversion;
- focus-converter (its own venv, FOCUS_CONVERTER_VENV, default /tmp/focusconv; it pins old
  polars/pandas) on the same rows. It only knows CUR 2.0 column names
  (`line_item_unblended_cost`) and its CSV reader leaves timestamps as text, which its plans
  reject ("expected duration or datetime, got str"), so it gets the same rows as AWS writes CUR
  2.0: Parquet, snake_case names, typed timestamps, float64 amounts (converted beforehand, not
  timed). Ours is also timed on that Parquet file. focus-converter is timed in-process (the
  calls its `convert` command makes, after the imports) and as its CLI (`convert --provider
  aws`), wall time with start-up, each against ours timed the same way.
Prints the times, the ratios, the row counts and the BilledCost / EffectiveCost totals of each
output (ours exact Decimal; theirs as it writes them: float64 Parquet), against the exact total
of the generated file.

    python benchmarks/cur_to_focus.py [--rows 1000000] [--keep DIR]
    # focus-converter venv, once:
    python3 -m venv /tmp/focusconv && /tmp/focusconv/bin/pip install focus-converter 'multimethod<2' 'click<8.2'
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ingest import billing  # noqa: E402
from pipeline.ingest.billing import aws_cur  # noqa: E402
from pipeline.ingest.parse import read_bytes  # noqa: E402

# line item types in a repeating cycle of 20 rows: 14 usage, 2 covered + 2 negations, 1 fee, 1 tax;
# every 400th row is a credit instead of a usage row
CYCLE = (
    ["Usage"] * 7
    + ["SavingsPlanCoveredUsage", "SavingsPlanNegation"]
    + ["Usage"] * 7
    + ["SavingsPlanCoveredUsage", "SavingsPlanNegation", "SavingsPlanRecurringFee", "Tax"]
)


def generate(path: Path, rows: int) -> tuple[Decimal, Decimal]:
    """Write the legacy CUR CSV; return its exact billed (unblended) and effective totals."""
    i = pl.int_range(0, rows, eager=True).alias("i")
    f = pl.DataFrame(i)
    kind = pl.col("i").mod(len(CYCLE)).replace_strict(dict(enumerate(CYCLE)), return_dtype=pl.String)
    kind = pl.when((pl.col("i") % 400 == 399) & (kind == "Usage")).then(pl.lit("Credit")).otherwise(kind)
    hour = (pl.col("i") // 40) % (28 * 24)  # 28 days of hours
    start = pl.datetime(2026, 2, 1) + pl.duration(hours=hour)
    # an amount with up to 10 decimals: (i * 7919 mod 10^7) / 10^6 + 0.0000000001 * (i mod 7)
    micro = (pl.col("i") * 7919) % 10_000_000
    amount = (
        micro.cast(pl.String).str.zfill(7).str.slice(0, 1)
        + "."
        + micro.cast(pl.String).str.zfill(7).str.slice(1)
        + (pl.col("i") % 7).cast(pl.String).str.zfill(4)
    )
    f = f.with_columns(kind.alias("kind"), start.alias("start"), amount.alias("amount"))
    negative = "-" + pl.col("amount")
    unblended = (
        pl.when(pl.col("kind") == "SavingsPlanNegation")
        .then(negative)
        .when(pl.col("kind") == "Credit")
        .then(negative)
        .otherwise(pl.col("amount"))
    )
    iso = "%Y-%m-%dT%H:%M:%SZ"
    sp = pl.col("kind").str.starts_with("SavingsPlan")
    covered = pl.col("kind") == "SavingsPlanCoveredUsage"
    fee = pl.col("kind") == "SavingsPlanRecurringFee"
    usage_like = pl.col("kind").is_in(["Usage", "SavingsPlanCoveredUsage"])
    out = f.select(
        ("li-" + pl.col("i").cast(pl.String)).alias("identity/LineItemId"),
        pl.lit("111111111111").alias("bill/PayerAccountId"),
        pl.lit("2026-02-01T00:00:00Z").alias("bill/BillingPeriodStartDate"),
        pl.lit("2026-03-01T00:00:00Z").alias("bill/BillingPeriodEndDate"),
        pl.lit("Amazon Web Services, Inc.").alias("bill/InvoicingEntity"),
        pl.lit("INV-2026-02").alias("bill/InvoiceId"),
        (pl.lit("2222222222") + (pl.col("i") % 5).cast(pl.String).str.zfill(2)).alias("lineItem/UsageAccountId"),
        pl.col("kind").alias("lineItem/LineItemType"),
        pl.col("start").dt.strftime(iso).alias("lineItem/UsageStartDate"),
        (pl.col("start") + pl.duration(hours=1)).dt.strftime(iso).alias("lineItem/UsageEndDate"),
        pl.when(pl.col("kind") == "Tax")
        .then(pl.lit("AmazonEC2"))
        .otherwise(pl.lit("AmazonEC2"))
        .alias("lineItem/ProductCode"),
        pl.when(usage_like).then(pl.lit("1")).otherwise(pl.lit("")).alias("lineItem/UsageAmount"),
        pl.lit("USD").alias("lineItem/CurrencyCode"),
        unblended.alias("lineItem/UnblendedCost"),
        pl.when(pl.col("kind") == "Tax")
        .then(pl.lit("Tax for February"))
        .otherwise(pl.lit("g5.12xlarge GPU instance hour"))
        .alias("lineItem/LineItemDescription"),
        pl.lit("Amazon Web Services, Inc.").alias("lineItem/LegalEntity"),
        pl.when(usage_like)
        .then("i-" + (pl.col("i") % 997).cast(pl.String).str.zfill(8))
        .otherwise(pl.lit(""))
        .alias("lineItem/ResourceId"),
        pl.lit("Amazon Elastic Compute Cloud").alias("product/ProductName"),
        pl.lit("us-east-1").alias("product/regionCode"),
        pl.lit("SKU1").alias("product/sku"),
        pl.when(usage_like).then(pl.lit("Hrs")).otherwise(pl.lit("")).alias("pricing/unit"),
        pl.when(sp)
        .then(pl.lit("arn:aws:savingsplans::111111111111:savingsplan/sp-1"))
        .otherwise(pl.lit(""))
        .alias("savingsPlan/SavingsPlanARN"),
        pl.when(covered).then(pl.col("amount")).otherwise(pl.lit("")).alias("savingsPlan/SavingsPlanEffectiveCost"),
        pl.when(fee).then(pl.col("amount")).otherwise(pl.lit("")).alias("savingsPlan/TotalCommitmentToDate"),
        pl.when(fee).then(pl.col("amount")).otherwise(pl.lit("")).alias("savingsPlan/UsedCommitment"),
        pl.lit("Anniversary").alias("bill/BillType"),
        pl.when(usage_like).then(pl.lit("us-east-1a")).otherwise(pl.lit("")).alias("lineItem/AvailabilityZone"),
        pl.when(usage_like).then(pl.col("amount")).otherwise(pl.lit("")).alias("pricing/publicOnDemandCost"),
        pl.when(usage_like).then(pl.lit("RC1")).otherwise(pl.lit("")).alias("pricing/RateCode"),
        pl.when(usage_like).then(pl.lit("1234567")).otherwise(pl.lit("")).alias("pricing/RateId"),
        pl.lit("").alias("reservation/EffectiveCost"),
        pl.lit("").alias("reservation/TotalReservedUnits"),
        pl.when(usage_like)
        .then("model-" + (pl.col("i") % 6).cast(pl.String))
        .otherwise(pl.lit(""))
        .alias("resourceTags/user:model"),
        pl.when(usage_like).then(pl.lit("ml")).otherwise(pl.lit("")).alias("resourceTags/user:team"),
    )
    out.write_csv(path)
    # exact totals from the text: billed = every unblended cost; effective = covered usage's SP
    # effective cost, 0 for negations, unused commitment (0 here) for the fee, else unblended
    values = out.select("lineItem/LineItemType", "lineItem/UnblendedCost").rows()
    billed = sum((Decimal(v) for _, v in values), Decimal(0))
    effective = sum(
        (Decimal(v) for k, v in values if k not in ("SavingsPlanNegation", "SavingsPlanRecurringFee")), Decimal(0)
    )
    return billed, effective


def as_cur2_parquet(legacy: Path, path: Path) -> Path:
    """The legacy CSV's rows as AWS writes CUR 2.0 Parquet: snake_case names (as our adapter
    renames them), timestamps typed, amounts float64, tags flattened as resource_tags_user_<key>."""
    frame = pl.read_csv(legacy, infer_schema=False, null_values=[""])
    frame = frame.rename(
        {
            c: "resource_tags_user_" + c.split(":", 1)[1] if c.startswith("resourceTags/") else aws_cur.snake(c)
            for c in frame.columns
        }
    )
    frame = frame.rename({"savings_plan_savings_plan_arn": "savings_plan_savings_plan_a_r_n"})
    times = [c for c in frame.columns if c.endswith(("_start_date", "_end_date"))]
    amounts = [c for c in frame.columns if c.endswith(("_cost", "_amount", "_commitment", "_to_date", "_units"))]
    frame = frame.with_columns(
        *[pl.col(c).str.strptime(pl.Datetime("ms"), "%Y-%m-%dT%H:%M:%SZ") for c in times],
        *[pl.col(c).cast(pl.Float64) for c in amounts],
    )
    frame.write_parquet(path)
    return path


# Run in a fresh interpreter, as focus-converter's driver is: `convert_file` timed after the
# imports, so the benchmark process's own heap (it made the file) does not weigh on either side.
OURS_IN_PROCESS = """
import sys, time
from pathlib import Path
from pipeline.export import convert_file
started = time.perf_counter()
rows, rejects = convert_file(Path(sys.argv[1]), Path(sys.argv[2]), fmt="parquet")
print(time.perf_counter() - started, rows, rejects.height)
"""


def ours(path: Path, out: Path) -> tuple[float, int, Decimal, Decimal, int]:
    """`costledger convert` in-process: the file to a FOCUS 1.2 Parquet file, as focus-converter
    writes one (timed after the imports, as theirs is)."""
    done = subprocess.run(
        [sys.executable, "-c", OURS_IN_PROCESS, str(path), str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=3600,
    )
    seconds, rows, quarantined = done.stdout.split()
    written = pl.read_parquet(out, columns=["BilledCost", "EffectiveCost"])
    return (
        float(seconds),
        int(rows),
        written.get_column("BilledCost").sum(),
        written.get_column("EffectiveCost").sum(),
        int(quarantined),
    )


def ours_cli(path: Path, out: Path) -> float:
    """`costledger convert` as a user runs it: wall time, interpreter start-up and imports included."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "convert", str(path), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=3600,
    )
    return time.perf_counter() - started


def raw_layer(path: Path) -> float:
    """Seconds DuckDB takes to write the file's raw layer (every delivered row as a JSON object)
    into a table: what ingest adds to the conversion, not part of it (focus-converter keeps no
    raw rows)."""
    raw = billing.read(path, read_bytes(path)).raw
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute("create table source_rows (row_number bigint, record json)")
    con.register("incoming", raw.to_arrow())
    started = time.perf_counter()
    con.execute("insert into source_rows by name select * from incoming")
    return time.perf_counter() - started


# Run in focus-converter's venv: the same calls its `convert` command makes, timed after the
# imports (as `ours` is), writing Parquet.
IN_PROCESS = """
import sys, time
from focus_converter.converter import FocusConverter
from focus_converter.data_loaders.data_exporter import ExportDataFormats
from focus_converter.data_loaders.provider_sensor import ProviderSensor
path, out = sys.argv[1], sys.argv[2]
started = time.perf_counter()
sensor = ProviderSensor(base_path=path)
sensor.load()
converter = FocusConverter(column_prefix=None, converted_column_prefix=None)
converter.load_provider_conversion_configs()
converter.load_data(data_path=path, data_format=sensor.data_format, parquet_data_format=sensor.parquet_data_format)
converter.configure_data_export(
    export_path=out,
    export_include_source_columns=False,
    basename_template=None,
    export_format=ExportDataFormats.PARQUET,
)
converter.prepare_horizontal_conversion_plan(provider=sensor.provider)
converter.convert()
print(time.perf_counter() - started)
"""


def theirs(venv: Path, path: Path, out: Path, *, in_process: bool) -> tuple[float, int, float, float, str]:
    """focus-converter on the CUR 2.0 Parquet file: its CLI (wall time, start-up included), or
    its conversion in-process (the seconds the driver prints)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if in_process:
        command = [str(venv / "bin" / "python"), "-c", IN_PROCESS, str(path), str(out) + "/"]
    else:
        command = [
            str(venv / "bin" / "focus-converter"),
            "convert",
            "--provider",
            "aws",
            "--data-path",
            str(path),
            "--data-format",
            "parquet",
            "--parquet-data-format",
            "file",
            "--export-path",
            str(out) + "/",
            "--export-format",
            "parquet",
            "--no-export-include-source-columns",
        ]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=3600,
        env={**os.environ, "COLUMNS": "200", "_TYPER_STANDARD_TRACEBACK": "1"},
    )
    seconds = time.perf_counter() - started
    files = sorted(out.glob("*.parquet"))
    if done.returncode != 0 or not files:
        raise SystemExit(f"focus-converter failed ({done.returncode}): {(done.stderr or done.stdout)[-3000:]}")
    if in_process:
        seconds = float(done.stdout.strip().splitlines()[-1])
    frame = pl.read_parquet(files)
    return (
        seconds,
        frame.height,
        float(frame.get_column("BilledCost").cast(pl.Float64).sum()),
        float(frame.get_column("EffectiveCost").cast(pl.Float64).sum()),
        str(frame.schema["BilledCost"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them (default: a temporary folder)")
    args = parser.parse_args()
    venv = Path(os.environ.get("FOCUS_CONVERTER_VENV", "/tmp/focusconv"))
    work = args.keep or Path(tempfile.mkdtemp(prefix="cur-to-focus-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        legacy = work / "cur-legacy.csv"
        started = time.perf_counter()
        billed, effective = generate(legacy, args.rows)
        print(
            f"generated {args.rows:,} legacy CUR line items ({legacy.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        print(f"  exact totals of the file: BilledCost {billed}, EffectiveCost {effective}")
        started = time.perf_counter()
        cur2 = as_cur2_parquet(legacy, work / "cur2.parquet")
        print(
            f"the same rows as CUR 2.0 Parquet ({cur2.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )

        t_ours, n_ours, b_ours, e_ours, q_ours = ours(legacy, work / "ours-legacy.parquet")
        print(
            f"ours, in-process (legacy CUR CSV):  {t_ours:6.2f} s  {n_ours:,} rows (+{q_ours} quarantined)  BilledCost "
            f"{b_ours}  EffectiveCost {e_ours}"
        )
        t_ours2, n_ours2, b_ours2, e_ours2, _ = ours(cur2, work / "ours-cur2.parquet")
        print(
            f"ours, in-process (CUR 2.0 Parquet): {t_ours2:6.2f} s  {n_ours2:,} rows  BilledCost {b_ours2}  "
            f"EffectiveCost {e_ours2}"
        )
        t_cli_ours, t_cli_ours2 = (
            ours_cli(legacy, work / "ours-cli-legacy.parquet"),
            ours_cli(cur2, work / "ours-cli-cur2.parquet"),
        )
        print(
            f"ours, `costledger convert`, start-up included: {t_cli_ours:6.2f} s (legacy CUR CSV), {t_cli_ours2:6.2f} "
            "s (CUR 2.0 Parquet)"
        )
        print(
            f"  at ingest, the raw layer (written by DuckDB, not part of the conversion) adds {raw_layer(legacy):.2f} "
            "s for the legacy CSV"
        )
        if not (venv / "bin" / "focus-converter").exists():
            print(f"focus-converter: not run, no venv at {venv} (see this file's docstring)")
            return
        t_inproc, n_theirs, b_theirs, e_theirs, dtype = theirs(
            venv, cur2, work / "focus-converter-out", in_process=True
        )
        print(
            f"focus-converter, in-process (CUR 2.0 Parquet): {t_inproc:6.2f} s  {n_theirs:,} rows  BilledCost "
            f"{b_theirs!r}  EffectiveCost {e_theirs!r} (column type {dtype})"
        )
        t_cli, *_ = theirs(venv, cur2, work / "focus-converter-out", in_process=False)
        print(f"focus-converter, its CLI, start-up included (CUR 2.0 Parquet): {t_cli:6.2f} s")
        print(
            f"speed-up in-process: {t_inproc / t_ours:.1f}x on the legacy CSV, {t_inproc / t_ours2:.1f}x on the same "
            "Parquet file"
        )
        print(
            f"speed-up CLI to CLI: {t_cli / t_cli_ours:.1f}x on the legacy CSV, {t_cli / t_cli_ours2:.1f}x on the same "
            "Parquet file"
        )
        print(
            f"rows equal: {n_ours == n_theirs == n_ours2}; ours exact: "
            f"{b_ours == billed and e_ours == effective and b_ours2 == billed and e_ours2 == effective}; "
            f"theirs off by BilledCost {Decimal(repr(b_theirs)) - billed}, EffectiveCost "
            f"{Decimal(repr(e_theirs)) - effective}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
