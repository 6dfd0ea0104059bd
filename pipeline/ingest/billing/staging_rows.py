"""The staging.billing rows every billing adapter ends with: FOCUS 1.2 columns, typed by `SCHEMA`.

`finish` is the last step of every billing adapter (FOCUS, CUR, Azure, GCP, Oracle): it normalises
the enum spellings, applies the row rules (known charge category, period order, tags an object,
mandatory values present) and adds the `x_` columns, so every format lands the same way."""

from __future__ import annotations

import json

import polars as pl

from pipeline.columns import (
    FOCUS_COLUMNS,
    FOCUS_MONEY_COLUMNS,
    FOCUS_QUANTITY_COLUMNS,
    FOCUS_REQUIRED,
    FOCUS_TIME_COLUMNS,
)
from pipeline.ingest.parse import (
    REJECT_SCHEMA,
    ROW,
    Col,
    Kind,
    Parsed,
    by_distinct,
    dtype_of,
    raw_records,
)

SCHEMA: dict[str, Col] = {
    name: Col(
        Kind.MONEY
        if name in FOCUS_MONEY_COLUMNS
        else Kind.DECIMAL
        if name in FOCUS_QUANTITY_COLUMNS
        else Kind.TIMESTAMP
        if name in FOCUS_TIME_COLUMNS
        else Kind.TEXT,
        required=name in FOCUS_REQUIRED,
    )
    for name in FOCUS_COLUMNS
}
SCHEMA["ConsumedQuantity"] = Col(Kind.QUANTITY)
SCHEMA["PricingQuantity"] = Col(Kind.QUANTITY)
SCHEMA_DTYPES: dict[str, pl.DataType] = {name: dtype_of(col.kind) for name, col in SCHEMA.items()}

CHARGE_CATEGORIES = {c.lower(): c for c in ("Usage", "Purchase", "Tax", "Credit", "Adjustment")}
CHARGE_FREQUENCIES = {c.lower(): c for c in ("One-Time", "Recurring", "Usage-Based")}
COMMITMENT_STATUSES = {c.lower(): c for c in ("Used", "Unused")}


def _valid_tags(value: str | None) -> bool:
    if value is None:
        return True
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False


def _tags_not_objects(tags: pl.Series) -> pl.Expr:
    """True where Tags is not a JSON object. Checked once per distinct value (a file has few tag
    sets): all at once with Polars' JSON reader, and only if that fails one by one."""
    distinct = tags.drop_nulls().unique()
    try:
        decoded = distinct.str.json_decode(infer_schema_length=None)
        if isinstance(decoded.dtype, pl.Struct) and not decoded.null_count():
            return pl.lit(False)
    except pl.exceptions.PolarsError:
        pass
    bad = [value for value in distinct.to_list() if not _valid_tags(value)]
    return pl.col("Tags").is_in(bad) if bad else pl.lit(False)


def finish(
    frame: pl.DataFrame,
    rows: pl.DataFrame,
    rejects: pl.DataFrame,
    *,
    fmt: str,
    notes: list[str] | None = None,
    tags_written: bool = False,
) -> Parsed:
    """Typed rows in FOCUS names (missing columns become null) -> the staging.billing Parsed.
    `tags_written`: the adapter wrote Tags itself as JSON objects, so they need no check."""
    rows = rows.with_columns(
        [pl.lit(None, dtype=SCHEMA_DTYPES[c]).alias(c) for c in FOCUS_COLUMNS if c not in rows.columns]
    )
    rows = rows.with_columns(
        by_distinct(
            rows.get_column("ChargeCategory"),
            lambda v: v.str.strip_chars().str.to_lowercase().replace_strict(CHARGE_CATEGORIES, default=None),
        ).alias("_cc"),
        by_distinct(
            rows.get_column("ChargeFrequency"),
            lambda v: v.str.strip_chars().str.to_lowercase().replace_strict(CHARGE_FREQUENCIES, default=None),
        ).alias("_cf"),
        by_distinct(
            rows.get_column("CommitmentDiscountStatus"),
            lambda v: v.str.strip_chars().str.to_lowercase().replace_strict(COMMITMENT_STATUSES, default=None),
        ).alias("_cs"),
    )
    checks = [
        (pl.col("_cc").is_null(), "ChargeCategory", f"expected one of {sorted(CHARGE_CATEGORIES.values())}"),
        *[(pl.col(c).is_null(), c, "required value is missing") for c in FOCUS_REQUIRED if c != "ChargeCategory"],
        (
            pl.col("ChargePeriodEnd") < pl.col("ChargePeriodStart"),
            "ChargePeriodEnd",
            "expected ChargePeriodEnd at or after ChargePeriodStart",
        ),
    ]
    if not tags_written:
        checks.append(
            (_tags_not_objects(rows.get_column("Tags")), "Tags", "expected a JSON object of tag keys to values")
        )
    # one pass: a row fails on the first check it breaks, in the order above
    masks = [mask.fill_null(False) for mask, _, _ in checks]
    rows = rows.with_columns(pl.any_horizontal(masks).alias("_bad"))
    failed = rows.filter(pl.col("_bad"))
    more = (
        failed.select(
            ROW,
            pl.coalesce(
                [
                    pl.when(mask).then(
                        pl.struct(
                            pl.lit(column).alias("column"),
                            pl.col(column).cast(pl.String).alias("value"),
                            pl.lit(reason).alias("reason"),
                        )
                    )
                    for mask, (_, column, reason) in zip(masks, checks, strict=True)
                ]
            ).struct.unnest(),
        ).cast(REJECT_SCHEMA)
        if failed.height
        else pl.DataFrame(schema=REJECT_SCHEMA)
    )
    if failed.height:
        rows = rows.filter(~pl.col("_bad"))
    rows = rows.with_columns(
        pl.col("_cc").alias("ChargeCategory"),
        pl.coalesce(pl.col("_cf"), pl.col("ChargeFrequency")).alias("ChargeFrequency"),
        pl.coalesce(pl.col("_cs"), pl.col("CommitmentDiscountStatus")).alias("CommitmentDiscountStatus"),
        by_distinct(rows.get_column("BillingCurrency"), lambda v: v.str.strip_chars().str.to_uppercase()).alias(
            "BillingCurrency"
        ),
        by_distinct(rows.get_column("BillingPeriodStart"), lambda v: v.dt.strftime("%Y-%m")).alias("x_BillingPeriod"),
        pl.lit(fmt).alias("x_SourceFormat"),
    ).select(ROW, *[pl.col(c).cast(SCHEMA_DTYPES[c]) for c in FOCUS_COLUMNS], "x_BillingPeriod", "x_SourceFormat")
    return Parsed(
        format=fmt, raw=raw_records(frame), rows=rows, rejects=pl.concat([rejects, more]), notes=list(notes or [])
    )
