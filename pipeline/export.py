"""The normalised billing (staging.billing, the active file versions) as a FOCUS dataset.

One row per source charge, in FOCUS column names and value conventions:
- timestamps in UTC, ISO 8601 with `Z` in CSV (`2026-01-01T00:00:00Z`), timestamp[us, UTC] in Parquet;
- money exact: decimal text without trailing zeros (but one decimal: `1.0`) in CSV, DECIMAL(38, 18) in Parquet;
- enum values in FOCUS spelling (ingest normalised them), Tags a JSON object;
- columns FOCUS makes mandatory that no source here fills (AvailabilityZone, RegionName,
  PricingCategory, unit prices, commitment name) are present and null; CommitmentDiscountCategory
  is derived from CommitmentDiscountType (savings plan / spend: Spend; reservation, committed use:
  Usage); a null ServiceCategory is `Other`;
- ListCost and ContractedCost must not be null: where the source has none, both default to the
  cost before commitment discounts are amortised, the larger of BilledCost and EffectiveCost
  (usage: its cost; covered usage: its effective cost; a commitment fee: its billed cost), and
  `x_DefaultedCosts` names the columns defaulted on that row;
- `x_` columns: billing period, source format, the file and row the charge came from, load id.

`version="1.0"` writes FOCUS 1.0 (no InvoiceId), for validators that know no later version.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.columns import FOCUS_COLUMNS, FOCUS_TIME_COLUMNS
from pipeline.config import Config
from pipeline.errors import CostLedgerError, InputError, escape_control
from pipeline.ingest import billing, checks, limits, rejection
from pipeline.ingest.parse import read_bytes
from pipeline.progress import Progress

VERSIONS: tuple[str, ...] = ("1.2", "1.0")
FORMATS: tuple[str, ...] = ("csv", "parquet")
# FOCUS 1.0 columns staging.billing does not carry: exported null (CommitmentDiscountCategory derived).
NULL_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone",
    "CommitmentDiscountName",
    "ContractedUnitPrice",
    "ListUnitPrice",
    "PricingCategory",
    "RegionName",
)
# columns newer than a version: left out of its export
NEWER_THAN: dict[str, tuple[str, ...]] = {"1.0": ("InvoiceId",), "1.2": ()}
X_COLUMNS: tuple[str, ...] = (
    "x_BillingPeriod",
    "x_SourceFormat",
    "x_SourceFile",
    "x_SourceRow",
    "x_LoadId",
    "x_DefaultedCosts",
)


def focus_columns(version: str) -> list[str]:
    """The FOCUS columns of an export, in name order (as the FOCUS spec lists them), then x_ columns."""
    if version not in VERSIONS:
        raise CostLedgerError(f"--focus-version {version!r}: expected one of {', '.join(VERSIONS)}")
    names = {*FOCUS_COLUMNS, *NULL_COLUMNS, "CommitmentDiscountCategory"} - set(NEWER_THAN[version])
    return [*sorted(names), *X_COLUMNS]


def focus_frame(con: duckdb.DuckDBPyConnection, *, month: str | None = None, version: str = "1.2") -> pl.DataFrame:
    """staging.billing (active loads, optionally one billing period) as typed FOCUS columns."""
    columns = focus_columns(version)  # checks the version before the query runs
    # a cursor: the caller's connection may hold an unfinished result (DuckDB 2.0 refuses con.sql then)
    frame = con.cursor().sql(warehouse.sql_text("export", "focus_billing"), params={"month": month}).pl()
    return conform(frame, columns)


def conform(rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """staging.billing rows (with x_SourceFile and load_id) as the FOCUS `columns`: defaults for the
    costs FOCUS makes mandatory, the derived and null columns, UTC timestamps."""
    money = rows.schema["BilledCost"]
    before_discount = pl.max_horizontal("BilledCost", "EffectiveCost").cast(money)
    defaulted = pl.concat_str(
        [pl.when(pl.col(c).is_null()).then(pl.lit(c)) for c in ("ContractedCost", "ListCost")],
        separator=",",
        ignore_nulls=True,
    )
    kind = pl.col("CommitmentDiscountType").str.to_lowercase()
    return rows.with_columns(
        pl.when(defaulted != "").then(defaulted).alias("x_DefaultedCosts"),
        pl.coalesce("ContractedCost", before_discount).alias("ContractedCost"),
        pl.coalesce("ListCost", "ContractedCost", before_discount).alias("ListCost"),
        pl.col("ServiceCategory").fill_null("Other"),
        pl.when(kind.str.contains("savings|spend"))
        .then(pl.lit("Spend"))
        .when(kind.str.contains("reserv|committed use|usage"))
        .then(pl.lit("Usage"))
        .otherwise(None)
        .alias("CommitmentDiscountCategory"),
        *[
            pl.lit(None, dtype=pl.String).alias(c)
            for c in NULL_COLUMNS
            if c not in ("ContractedUnitPrice", "ListUnitPrice")
        ],
        *[pl.lit(None, dtype=money).alias(c) for c in ("ContractedUnitPrice", "ListUnitPrice")],
        pl.col("row_number").alias("x_SourceRow"),
        pl.col("load_id").alias("x_LoadId"),
        *[pl.col(c).dt.replace_time_zone("UTC") for c in FOCUS_TIME_COLUMNS],
    ).select(columns)


def as_csv_text(frame: pl.DataFrame) -> pl.DataFrame:
    """FOCUS CSV values: `...Z` timestamps, exact decimals without trailing zeros but with at least
    one decimal (`1.0`, `4.8`), so that readers never take a decimal column for integers."""
    decimals = [c for c, t in frame.schema.items() if isinstance(t, pl.Decimal)]
    times = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    return frame.with_columns(
        *[pl.col(c).cast(pl.String).str.replace(r"(\.\d+?)0+$", "${1}") for c in decimals],
        *[pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ") for c in times],
    )


def export_focus(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    month: str | None = None,
    fmt: str = "csv",
    version: str = "1.2",
) -> int:
    """Write the FOCUS dataset to `out` (CSV or Parquet); return the number of rows written."""
    if fmt not in FORMATS:
        raise CostLedgerError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    check_target(Path(out))
    frame = focus_frame(con, month=month, version=version)
    _write(frame, Path(out), fmt)
    return frame.height


def convert_file(
    path: Path, out: Path, *, fmt: str = "parquet", version: str = "1.2", progress: Progress | None = None
) -> tuple[int, pl.DataFrame]:
    """One billing export (any format ingest knows) as a FOCUS file, without a warehouse: the rows
    ingest would stage, with the same rules for bad rows. Returns the rows written and the
    quarantined rows (row, column, value, reason), which the caller reports. Reading, checking and
    writing are each a line of `progress`."""
    progress = progress or Progress()
    if fmt not in FORMATS:
        raise CostLedgerError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    columns = focus_columns(version)
    if not path.is_file():
        raise InputError(
            "no such file: expected one billing export (CSV, Parquet or JSON lines, plain or gzip)", path=path
        )
    check_target(out, source=path)
    config = Config()  # no workspace: the default limits and rules
    progress.phase(f"converting {path.name} to FOCUS {version}", 3)
    scanned = limits.scan(path, limits.Limits.of(config.ingest), csv=True)  # streamed: a gzip bomb stops early
    if scanned.problem is not None:
        raise InputError(scanned.problem, path=path)
    try:
        read = billing.read(path, read_bytes(path))
        progress.item(f"{path.name}: {read.rows_in:,} rows read ({read.format})")
        parsed = checks.apply(read, source="billing", path=path, config=config)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - what a hostile file makes a parser raise is that file's error
        raise rejection(exc, path) from exc
    progress.item(f"{path.name}: {parsed.rows_loaded:,} rows kept, {parsed.rows_quarantined:,} quarantined")
    rows = parsed.rows.with_columns(
        pl.lit(path.name).alias("x_SourceFile"), pl.lit(None, dtype=pl.String).alias("load_id")
    )
    frame = conform(rows, columns)
    _write(frame, out, fmt)
    progress.item(f"{out}: {frame.height:,} rows written ({fmt})")
    return frame.height, parsed.rejects


def written_paths(out: Path) -> tuple[Path, Path, Path]:
    """What writing `out` touches: its partial file, itself, and the quarantine list beside it."""
    return out.with_name(f".{out.name}.partial"), out, quarantine_path(out)


def quarantine_path(out: Path) -> Path:
    """`convert`'s list of quarantined rows, beside its output."""
    return out.with_name(f"{out.name}.quarantine.csv")


def check_target(out: Path, *, source: Path | None = None) -> None:
    """Refuse an output path that is a folder, or (for `convert`) whose writing would replace or
    delete the input: the same file, or a hard or symbolic link to it."""
    if out.is_dir():
        raise CostLedgerError(f"--out {escape_control(str(out))}: is a folder; expected the path of a file to write")
    if source is None:
        return
    for target in written_paths(out):
        if target.exists() and os.path.samefile(target, source):
            raise CostLedgerError(
                f"--out {escape_control(str(out))}: writing it would overwrite the input {escape_control(str(source))}"
                f"{'' if target == out else f' (through {escape_control(target.name)})'}; choose another output path"
            )


def _write(frame: pl.DataFrame, out: Path, fmt: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = written_paths(out)[0]  # a reader never sees half a file
    if fmt == "csv":
        as_csv_text(frame).write_csv(partial)
    else:
        frame.write_parquet(partial)
    partial.replace(out)


def default_path(root: Path, *, month: str | None, fmt: str, version: str) -> Path:
    """exports/focus-<version>[-<month>].<fmt> in the workspace."""
    return root / "exports" / f"focus-{version}{'-' + month if month else ''}.{fmt}"
