"""Row checks every adapter's output goes through, and the per-source bad-row policy.

After typing (parse.coerce) a row may still be wrong as data: delivered twice in the file, dated
in the future, or charged outside its billing period. Each such row moves to the rejects with
its row number, column, value and reason. Then the source's declared policy (config `bad_rows`)
decides: `quarantine` loads the good rows, `reject_file` raises InputError naming the first bad
row, and nothing of the file is loaded; the error carries every row for meta.quarantine (see
whole_file).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.parse import REJECT_SCHEMA, ROW, Parsed
from pipeline.ingest.parsed import record_hash

log = logging.getLogger(__name__)

# meta.loads' note on a file with a header but no rows: it loads, as an empty delivery.
HEADER_ONLY = (
    "header only: the file has no data rows and loads as an empty delivery (0 rows); check the export is complete"
)
# A charge may be billed late (usage of the last hours of a month billed in the next one), but
# not more than this long before its billing period starts.
LATE_CHARGE_DAYS = 92
# Clock skew and time zones: a date up to a day ahead of now (UTC) is not yet "the future".
FUTURE_SLACK = timedelta(days=1)
# Columns that identify a row: a second row with the same key contradicts the first.
KEYS: dict[str, tuple[str, ...]] = {
    "fx": ("rate_date", "currency"),
    "usage": ("usage_date", "model_id"),
    "assets": ("asset_id",),
    "milestones": ("model_id", "milestone"),
}
# Formats in which an identical line is a later reading, not a copy: an exposition line without
# a timestamp repeats in every scrape of a concatenated file (pipeline.ingest.telemetry.exposition dates
# each scrape; a sample repeated at one time is folded there).
REPEATING_LINES = ("prometheus-exposition",)
# The column that dates a row, per source (a row dated after now is rejected).
DATED: dict[str, str] = {
    "billing": "ChargePeriodStart",
    "telemetry": "ts",
    "usage": "usage_date",
    "fx": "rate_date",
}


def apply(
    parsed: Parsed,
    *,
    source: str,
    path: Path,
    config: Config,
    now: datetime | None = None,
    whole: bool = True,
) -> Parsed:
    """The parsed file with duplicate, future and out-of-period rows moved to its rejects; raises
    InputError if the source's policy is `reject_file` and any row was rejected. `whole=False`:
    `parsed` is one chunk of a file (pipeline.ingest.chunked): only the row-local checks run, and
    the caller finds exact duplicates and applies the policy over all the chunks."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rejected = set(parsed.rejects.get_column(ROW).to_list())
    found = [_exact_duplicates(parsed.raw)] if whole and parsed.format not in REPEATING_LINES else []
    rows = parsed.rows
    if source in KEYS and set(KEYS[source]) <= set(rows.columns):
        found.append(_key_duplicates(rows, KEYS[source]))
    if source in DATED:
        found.append(_future(rows, DATED[source], now))
    if source == "billing":
        found.append(_outside_billing_period(rows))
    new = pl.concat([f.cast(REJECT_SCHEMA) for f in found]) if found else pl.DataFrame(schema=REJECT_SCHEMA)
    new = new.filter(~pl.col(ROW).is_in(list(rejected))).unique(ROW, keep="first", maintain_order=True)
    if new.height:
        rows = rows.filter(~pl.col(ROW).is_in(new.get_column(ROW).to_list()))
    rejects = pl.concat([parsed.rejects, new]).sort(ROW, maintain_order=True)
    if whole and rejects.height and policy(config, source) == "reject_file":
        raise refusal(rejects, parsed.raw, source=source, path=path)
    notes = list(parsed.notes)
    if whole and not parsed.raw.height:
        notes.append(HEADER_ONLY)
        log.warning("%s: %s", path, HEADER_ONLY)
    return Parsed(format=parsed.format, raw=parsed.raw, rows=rows, rejects=rejects, notes=notes)


def policy(config: Config, source: str) -> str:
    """The source's bad-row policy: `quarantine` or `reject_file`."""
    return getattr(config.bad_rows, source, "quarantine")


class RejectedForRows(InputError):
    """A file refused for its bad rows: `rejects` holds every row of it, for meta.quarantine."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        rejects: pl.DataFrame | None = None,
    ) -> None:
        super().__init__(message, path=path, row=row, column=column)
        self.rejects = rejects


def refusal(rejects: pl.DataFrame, raw: pl.DataFrame, *, source: str, path: Path) -> InputError:
    """The error rejecting a file for its bad rows (`rejects`, sorted by row) under the
    `reject_file` policy, carrying every row of `raw` (at least its row numbers) as whole_file."""
    first = rejects.row(0, named=True)
    return RejectedForRows(
        f"{first['reason']} (got {first['value']!r}); nothing of this file was loaded "
        f"(bad_rows.{source} = 'reject_file'; {rejects.get_column(ROW).n_unique()} bad rows)",
        path=path,
        row=first[ROW],
        column=first["column"],
        rejects=whole_file(rejects, raw, because=f"bad_rows.{source} = 'reject_file'"),
    )


def whole_file(
    rejects: pl.DataFrame, raw: pl.DataFrame, *, because: str, withhold_values: bool = False
) -> pl.DataFrame:
    """What meta.quarantine keeps of a file rejected for its bad rows (carried as the InputError's
    `rejects`): the bad rows with their reasons, and every other row as not loaded because of
    them, so that rows in = 0 loaded + rows quarantined. `withhold_values` keeps HR values out."""
    rejects = rejects.cast(REJECT_SCHEMA).sort(ROW, maintain_order=True)
    first = rejects.item(0, ROW)
    others = (
        raw.select(ROW)
        .filter(~pl.col(ROW).is_in(rejects.get_column(ROW).to_list()))
        .select(
            ROW,
            pl.lit("(file)").alias("column"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.lit(f"not loaded: the file is rejected for its bad rows (first: row {first}; {because})").alias(
                "reason"
            ),
        )
    )
    kept = pl.concat([rejects, others.cast(REJECT_SCHEMA)]).sort(ROW, maintain_order=True)
    return kept.with_columns(pl.lit(None, dtype=pl.String).alias("value")) if withhold_values else kept


def _exact_duplicates(raw: pl.DataFrame) -> pl.DataFrame:
    """Rows identical in every column to an earlier row of the same file."""
    if not raw.height or _first_column_distinct(raw.get_column("record")):
        return pl.DataFrame(schema=REJECT_SCHEMA)
    # usually none: the records' hashes first; only those whose hash repeats are compared whole
    candidates = raw.filter(record_hash(raw).is_duplicated())
    repeated = candidates.filter(pl.col("record").is_duplicated())
    marked = repeated.with_columns(pl.col(ROW).min().over("record").alias("_first"))
    return marked.filter(pl.col(ROW) != pl.col("_first")).select(
        ROW,
        pl.lit("(every column)").alias("column"),
        pl.lit(None, dtype=pl.String).alias("value"),
        pl.format("duplicate line: identical to row {} in every column", "_first").alias("reason"),
    )


def _first_column_distinct(record: pl.Series) -> bool:
    """True when the rows' first delivered column never repeats (a line item id, as CUR exports
    lead with), which proves no two rows are identical at a fraction of comparing whole rows."""
    if not isinstance(record.dtype, pl.Struct):
        return False
    return record.struct.field(record.dtype.fields[0].name).n_unique() == record.len()


def _key_duplicates(rows: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Rows whose key an earlier row of the file already has (two FX rates for one day...)."""
    value = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in key], separator="/")
    marked = rows.with_columns(pl.col(ROW).min().over(key).alias("_first"))
    return marked.filter(pl.col(ROW) != pl.col("_first")).select(
        ROW,
        pl.lit("+".join(key)).alias("column"),
        value.alias("value"),
        pl.format(f"duplicate {'+'.join(key)}: row {{}} already gives it", "_first").alias("reason"),
    )


def _future(rows: pl.DataFrame, column: str, now: datetime) -> pl.DataFrame:
    limit = now + FUTURE_SLACK
    dated = pl.col(column).cast(pl.Datetime("us"))
    return rows.filter(dated > limit).select(
        ROW,
        pl.lit(column).alias("column"),
        pl.col(column).cast(pl.String).alias("value"),
        pl.lit(f"a date in the future (after {limit:%Y-%m-%d %H:%M} UTC)").alias("reason"),
    )


def _outside_billing_period(rows: pl.DataFrame) -> pl.DataFrame:
    start, end, charge = pl.col("BillingPeriodStart"), pl.col("BillingPeriodEnd"), pl.col("ChargePeriodStart")
    after = (charge >= end).fill_null(False)
    before = (charge < start - timedelta(days=LATE_CHARGE_DAYS)).fill_null(False)
    return rows.filter(after | before).select(
        ROW,
        pl.lit("ChargePeriodStart").alias("column"),
        charge.cast(pl.String).alias("value"),
        pl.when(after)
        .then(pl.format("outside the billing period: starts at or after BillingPeriodEnd {}", end.cast(pl.String)))
        .otherwise(
            pl.format(
                f"outside the billing period: more than {LATE_CHARGE_DAYS} days before BillingPeriodStart {{}}",
                start.cast(pl.String),
            )
        )
        .alias("reason"),
    )
