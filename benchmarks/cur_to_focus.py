"""Benchmark (not a test): a legacy AWS CUR CSV to FOCUS, ours against the FinOps Foundation's
focus-converter.

Writes a deterministic legacy CUR CSV (default 1,000,000 line items: usage, savings-plan covered
usage with its negation, savings-plan fees, tax, credits; two resource tags) into a temporary
folder (never committed), then times:
- ours: `pipeline.ingest.billing.read` on the file, i.e. detection, read as text (the lossless
  raw rows), legacy -> CUR 2.0 names, typing with quarantine, FOCUS 1.2 staging rows, exact;
- focus-converter (its own venv, FOCUS_CONVERTER_VENV, default /tmp/focusconv; it pins old
  polars/pandas) `convert --provider aws`, on the same rows. It only knows CUR 2.0 column names
  (`line_item_unblended_cost`) and its CSV reader leaves timestamps as text, which its plans
  reject ("expected duration or datetime, got str"), so it gets the same rows as AWS writes CUR
  2.0: Parquet, snake_case names, typed timestamps, float64 amounts (converted beforehand, not
  timed). Ours is also timed on that Parquet file.
Prints both times, the ratio, the row counts and the BilledCost / EffectiveCost totals of each
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

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ingest import aws_cur, billing  # noqa: E402
from pipeline.ingest.parse import raw_records, read_bytes  # noqa: E402

# line item types in a repeating cycle of 20 rows: 14 usage, 2 covered + 2 negations, 1 fee, 1 tax;
# every 400th row is a credit instead of a usage row
CYCLE = ["Usage"] * 7 + ["SavingsPlanCoveredUsage", "SavingsPlanNegation"] + ["Usage"] * 7 + ["SavingsPlanCoveredUsage", "SavingsPlanNegation", "SavingsPlanRecurringFee", "Tax"]


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
    amount = (micro.cast(pl.String).str.zfill(7).str.slice(0, 1) + "." + micro.cast(pl.String).str.zfill(7).str.slice(1) + (pl.col("i") % 7).cast(pl.String).str.zfill(4))
    f = f.with_columns(kind.alias("kind"), start.alias("start"), amount.alias("amount"))
    negative = "-" + pl.col("amount")
    unblended = (
        pl.when(pl.col("kind") == "SavingsPlanNegation").then(negative)
        .when(pl.col("kind") == "Credit").then(negative)
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
        pl.when(pl.col("kind") == "Tax").then(pl.lit("AmazonEC2")).otherwise(pl.lit("AmazonEC2")).alias("lineItem/ProductCode"),
        pl.when(usage_like).then(pl.lit("1")).otherwise(pl.lit("")).alias("lineItem/UsageAmount"),
        pl.lit("USD").alias("lineItem/CurrencyCode"),
        unblended.alias("lineItem/UnblendedCost"),
        pl.when(pl.col("kind") == "Tax").then(pl.lit("Tax for February")).otherwise(pl.lit("g5.12xlarge GPU instance hour")).alias("lineItem/LineItemDescription"),
        pl.lit("Amazon Web Services, Inc.").alias("lineItem/LegalEntity"),
        pl.when(usage_like).then("i-" + (pl.col("i") % 997).cast(pl.String).str.zfill(8)).otherwise(pl.lit("")).alias("lineItem/ResourceId"),
        pl.lit("Amazon Elastic Compute Cloud").alias("product/ProductName"),
        pl.lit("us-east-1").alias("product/regionCode"),
        pl.lit("SKU1").alias("product/sku"),
        pl.when(usage_like).then(pl.lit("Hrs")).otherwise(pl.lit("")).alias("pricing/unit"),
        pl.when(sp).then(pl.lit("arn:aws:savingsplans::111111111111:savingsplan/sp-1")).otherwise(pl.lit("")).alias("savingsPlan/SavingsPlanARN"),
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
        pl.when(usage_like).then("model-" + (pl.col("i") % 6).cast(pl.String)).otherwise(pl.lit("")).alias("resourceTags/user:model"),
        pl.when(usage_like).then(pl.lit("ml")).otherwise(pl.lit("")).alias("resourceTags/user:team"),
    )
    out.write_csv(path)
    # exact totals from the text: billed = every unblended cost; effective = covered usage's SP
    # effective cost, 0 for negations, unused commitment (0 here) for the fee, else unblended
    values = out.select("lineItem/LineItemType", "lineItem/UnblendedCost").rows()
    billed = sum((Decimal(v) for _, v in values), Decimal(0))
    effective = sum((Decimal(v) for k, v in values if k not in ("SavingsPlanNegation", "SavingsPlanRecurringFee")), Decimal(0))
    return billed, effective


def as_cur2_parquet(legacy: Path, path: Path) -> Path:
    """The legacy CSV's rows as AWS writes CUR 2.0 Parquet: snake_case names (as our adapter
    renames them), timestamps typed, amounts float64, tags flattened as resource_tags_user_<key>."""
    frame = pl.read_csv(legacy, infer_schema=False, null_values=[""])
    frame = frame.rename({c: "resource_tags_user_" + c.split(":", 1)[1] if c.startswith("resourceTags/") else aws_cur.snake(c) for c in frame.columns})
    frame = frame.rename({"savings_plan_savings_plan_arn": "savings_plan_savings_plan_a_r_n"})
    times = [c for c in frame.columns if c.endswith(("_start_date", "_end_date"))]
    amounts = [c for c in frame.columns if c.endswith(("_cost", "_amount", "_commitment", "_to_date", "_units"))]
    frame = frame.with_columns(
        *[pl.col(c).str.strptime(pl.Datetime("ms"), "%Y-%m-%dT%H:%M:%SZ") for c in times],
        *[pl.col(c).cast(pl.Float64) for c in amounts],
    )
    frame.write_parquet(path)
    return path


def ours(path: Path) -> tuple[float, int, Decimal, Decimal, int]:
    started = time.perf_counter()
    parsed = billing.read(path, read_bytes(path))
    seconds = time.perf_counter() - started
    rows = parsed.rows
    return seconds, rows.height, rows.get_column("BilledCost").sum(), rows.get_column("EffectiveCost").sum(), parsed.rows_quarantined


def raw_share(path: Path) -> tuple[float, float]:
    """Seconds to read the file as text and to make its raw layer (every delivered row as a JSON
    object): both are inside `ours`, timed again here on their own to show where the time goes."""
    started = time.perf_counter()
    text = billing.text_frame(path, read_bytes(path))
    read = time.perf_counter() - started
    started = time.perf_counter()
    raw_records(text)
    return read, time.perf_counter() - started


def theirs(venv: Path, path: Path, out: Path) -> tuple[float, int, float, float, str]:
    out.mkdir(parents=True, exist_ok=True)
    command = [str(venv / "bin" / "focus-converter"), "convert", "--provider", "aws", "--data-path", str(path), "--data-format", "parquet", "--parquet-data-format", "file",
               "--export-path", str(out) + "/", "--export-format", "parquet", "--no-export-include-source-columns"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=3600,
                          env={**os.environ, "COLUMNS": "200", "_TYPER_STANDARD_TRACEBACK": "1"})
    seconds = time.perf_counter() - started
    files = sorted(out.glob("*.parquet"))
    if done.returncode != 0 or not files:
        raise SystemExit(f"focus-converter failed ({done.returncode}): {(done.stderr or done.stdout)[-3000:]}")
    frame = pl.read_parquet(files)
    return seconds, frame.height, float(frame.get_column("BilledCost").cast(pl.Float64).sum()), float(frame.get_column("EffectiveCost").cast(pl.Float64).sum()), str(frame.schema["BilledCost"])


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
        print(f"generated {args.rows:,} legacy CUR line items ({legacy.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        print(f"  exact totals of the file: BilledCost {billed}, EffectiveCost {effective}")
        started = time.perf_counter()
        cur2 = as_cur2_parquet(legacy, work / "cur2.parquet")
        print(f"the same rows as CUR 2.0 Parquet ({cur2.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")

        t_ours, n_ours, b_ours, e_ours, q_ours = ours(legacy)
        print(f"ours (legacy CUR):        {t_ours:7.2f} s  {n_ours:,} rows (+{q_ours} quarantined)  BilledCost {b_ours}  EffectiveCost {e_ours}")
        t_ours2, n_ours2, b_ours2, e_ours2, _ = ours(cur2)
        print(f"ours (CUR 2.0 Parquet):   {t_ours2:7.2f} s  {n_ours2:,} rows  BilledCost {b_ours2}  EffectiveCost {e_ours2}")
        t_read, t_raw = raw_share(legacy)
        print(f"  of ours (legacy CUR), timed again alone: reading as text {t_read:.2f} s, raw layer (JSON of every row) {t_raw:.2f} s")
        if not (venv / "bin" / "focus-converter").exists():
            print(f"focus-converter: not run, no venv at {venv} (see this file's docstring)")
            return
        t_theirs, n_theirs, b_theirs, e_theirs, dtype = theirs(venv, cur2, work / "focus-converter-out")
        print(f"focus-converter (CUR 2.0 Parquet): {t_theirs:7.2f} s  {n_theirs:,} rows  BilledCost {b_theirs!r}  EffectiveCost {e_theirs!r} (column type {dtype})")
        print(f"speed-up: {t_theirs / t_ours:.1f}x (legacy file), {t_theirs / t_ours2:.1f}x (same file)")
        print(f"rows equal: {n_ours == n_theirs}; ours exact: {b_ours == billed and e_ours == effective}; "
              f"theirs off by BilledCost {Decimal(repr(b_theirs)) - billed}, EffectiveCost {Decimal(repr(e_theirs)) - effective}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
