"""FOCUS billing exports (1.0, 1.1, 1.2; CSV or Parquet, plain or gzip) -> staging.billing rows.

The FOCUS columns are the staging columns already: the money columns are rounded to the
warehouse's scale, every column is typed (pipeline.ingest.billing.staging_rows.SCHEMA), and the
version is told from the columns only a later version has."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.columns import FOCUS_MONEY_COLUMNS, FOCUS_REQUIRED, MONEY_SCALE
from pipeline.config import Config
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.billing.staging_rows import SCHEMA, finish
from pipeline.ingest.parse import Parsed, coerce, read_csv_text, round_excess_decimals

_V11_COLUMNS = {"ServiceSubcategory", "CapacityReservationId", "CommitmentDiscountQuantity", "SkuMeter"}
_V12_COLUMNS = {"InvoiceId", "PricingCurrency", "PricingCurrencyEffectiveCost", "ServiceProviderName"}


def detect(header: list[str]) -> str | None:
    """The FOCUS version a header belongs to, or None if it lacks FOCUS's mandatory cost columns."""
    columns = {c.strip() for c in header}
    if not set(FOCUS_REQUIRED) <= columns:
        return None
    if columns & _V12_COLUMNS:
        return "focus-1.2"
    if columns & _V11_COLUMNS:
        return "focus-1.1"
    return "focus-1.0"


def read(path: Path, *, text: pl.DataFrame | None = None, dates: str = "auto") -> Parsed:
    """Parse a FOCUS file (already read as text) into typed FOCUS 1.2 columns. `dates` is the
    source's slash-date order setting (see parse.date_order)."""
    frame = read_csv_text(path) if text is None else text
    fmt = detect(frame.columns) or "focus"
    rounded, notes = round_excess_decimals(frame, list(FOCUS_MONEY_COLUMNS), scale=MONEY_SCALE)
    rows, rejects = coerce(rounded, SCHEMA, path=path, dates=dates)
    return finish(frame, rows, rejects, fmt=fmt, notes=notes)


def _detect(head: Head) -> str | None:
    return detect(list(head.columns))


def _read(path: Path, content: pl.DataFrame, config: Config) -> Parsed:
    return read(path, text=content, dates=config.dates.billing)


ADAPTER: Adapter[pl.DataFrame] = Adapter(
    name="FOCUS",
    order=10,
    detect=_detect,
    read=_read,
    signature=FOCUS_REQUIRED,
    describes="FOCUS 1.0/1.1/1.2 (CSV or Parquet)",
)
