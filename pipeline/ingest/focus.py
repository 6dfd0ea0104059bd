"""FOCUS billing exports (1.0, 1.1, 1.2; CSV, plain or gzip) -> staging.billing rows."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.columns import FOCUS_COLUMNS, FOCUS_MONEY_COLUMNS, FOCUS_QUANTITY_COLUMNS, FOCUS_REQUIRED, FOCUS_TIME_COLUMNS
from pipeline.ingest.parse import ROW, Col, Kind, Parsed, coerce, raw_records, read_csv_text, reject

SCHEMA: dict[str, Col] = {
    name: Col(
        Kind.MONEY if name in FOCUS_MONEY_COLUMNS
        else Kind.DECIMAL if name in FOCUS_QUANTITY_COLUMNS
        else Kind.TIMESTAMP if name in FOCUS_TIME_COLUMNS
        else Kind.TEXT,
        required=name in FOCUS_REQUIRED,
    )
    for name in FOCUS_COLUMNS
}
SCHEMA["ConsumedQuantity"] = Col(Kind.MONEY)
SCHEMA["PricingQuantity"] = Col(Kind.MONEY)

CHARGE_CATEGORIES = {c.lower(): c for c in ("Usage", "Purchase", "Tax", "Credit", "Adjustment")}
CHARGE_FREQUENCIES = {c.lower(): c for c in ("One-Time", "Recurring", "Usage-Based")}
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


def _valid_tags(value: str | None) -> bool:
    if value is None:
        return True
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False


def read(path: Path, *, text: pl.DataFrame | None = None) -> Parsed:
    """Parse a FOCUS CSV into typed FOCUS 1.2 columns; bad rows become rejects."""
    frame = read_csv_text(path) if text is None else text
    fmt = detect(frame.columns) or "focus"
    rows, rejects = coerce(frame, SCHEMA, path=path)
    rows = rows.with_columns(
        pl.col("ChargeCategory").str.to_lowercase().replace_strict(CHARGE_CATEGORIES, default=None).alias("_cc"),
        pl.col("ChargeFrequency").str.to_lowercase().replace_strict(CHARGE_FREQUENCIES, default=None).alias("_cf"),
    )
    rows, bad_cc = reject(rows, pl.col("_cc").is_null(), column="ChargeCategory", reason=f"expected one of {sorted(CHARGE_CATEGORIES.values())}")
    rows, bad_period = reject(
        rows,
        pl.col("ChargePeriodEnd") < pl.col("ChargePeriodStart"),
        column="ChargePeriodEnd",
        reason="expected ChargePeriodEnd at or after ChargePeriodStart",
    )
    tags_ok = pl.col("Tags").map_elements(_valid_tags, return_dtype=pl.Boolean, skip_nulls=False)
    rows, bad_tags = reject(rows, ~tags_ok, column="Tags", reason="expected a JSON object of tag keys to values")
    rows = rows.with_columns(
        pl.col("_cc").alias("ChargeCategory"),
        pl.coalesce(pl.col("_cf"), pl.col("ChargeFrequency")).alias("ChargeFrequency"),
        pl.col("BillingCurrency").str.to_uppercase(),
        pl.col("BillingPeriodStart").dt.strftime("%Y-%m").alias("x_BillingPeriod"),
        pl.lit(fmt).alias("x_SourceFormat"),
    ).select(ROW, *FOCUS_COLUMNS, "x_BillingPeriod", "x_SourceFormat")
    return Parsed(
        format=fmt,
        raw=raw_records(frame),
        rows=rows,
        rejects=pl.concat([rejects, bad_cc, bad_period, bad_tags]),
    )
