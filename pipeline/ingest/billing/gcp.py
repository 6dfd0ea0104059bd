"""GCP Cloud Billing export (BigQuery standard/detailed) -> staging.billing rows.

Reads it as JSON lines (nested `project`, `service`, `sku`, `labels`, `credits`, ...) and as the
flattened CSV (dotted headers such as `service.description`; `labels` and `credits` as text
lists, JSON or Python-literal). Nested JSON objects are flattened to the same dotted names first,
so one mapping serves both.

Cost semantics:
- BilledCost = cost + the sum of all credits of the row (what the invoice charges);
- credits are negative cost on the row they credit, so they land in that row's category; a row
  whose own cost is 0 and which carries only credits is a `Credit` row;
- committed-use discounts: the commitment fee (SKU description `Commitment ...`) is a Purchase
  with EffectiveCost 0; usage covered by a CUD credit (credit type `COMMITTED_USAGE_DISCOUNT*`)
  keeps EffectiveCost = cost + its other credits. The export carries no amortised rate, so the
  covered usage is valued at its price before the CUD credit (documented approximation);
- cost_type `tax` -> Tax, `adjustment` -> Adjustment (Correction), `rounding_error` -> Adjustment.
BillingPeriodStart is `invoice.month` (YYYYMM); the account is `billing_account_id`; the
sub-account the project. Labels: resource `labels` over `project.labels`.
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from pipeline.columns import MONEY_SCALE
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.billing import staging_rows
from pipeline.ingest.parse import (
    ROW,
    Col,
    Kind,
    Parsed,
    coerce,
    decode_string_maps,
    reject,
    round_excess_decimals,
    struct_keys,
)
from pipeline.ingest.services import with_service_category

T, M, TS = Kind.TEXT, Kind.MONEY, Kind.TIMESTAMP
SCHEMA: dict[str, Col] = {
    "billing_account_id": Col(T, True),
    "service.id": Col(T),
    "service.description": Col(T),
    "sku.id": Col(T),
    "sku.description": Col(T),
    "usage_start_time": Col(TS, True),
    "usage_end_time": Col(TS, True),
    "project.id": Col(T),
    "project.name": Col(T),
    "location.region": Col(T),
    "location.location": Col(T),
    "cost": Col(M, True),
    "currency": Col(T),
    "usage.amount": Col(Kind.QUANTITY),
    "usage.unit": Col(T),
    "usage.amount_in_pricing_units": Col(Kind.QUANTITY),
    "usage.pricing_unit": Col(T),
    "invoice.month": Col(T, True),
    "cost_type": Col(T),
    "resource.name": Col(T),
    "resource.global_name": Col(T),
    "seller_name": Col(T),
    "_billed": Col(M, True),
    "_effective": Col(M, True),
    "_credit_only": Col(T),
    "_cud": Col(T),
    "_tags": Col(T),
}
SIGNATURE: tuple[str, ...] = (
    "billing_account_id",
    "service.description",
    "sku.description",
    "usage_start_time",
    "cost",
    "invoice.month",
)
COST_TYPES: dict[str, tuple[str, str | None]] = {
    "regular": ("Usage", None),
    "tax": ("Tax", None),
    "adjustment": ("Adjustment", "Correction"),
    "rounding_error": ("Adjustment", None),
}
CUD_CREDITS = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")


def detect(header: list[str]) -> str | None:
    columns = set(_flat_names(header))
    if {"billing_account_id", "cost", "usage_start_time"} <= columns and ({"invoice.month", "invoice"} & columns):
        return "gcp-billing-export"
    return None


def _flat_names(header: list[str]) -> list[str]:
    return [c.strip() for c in header]


def _nested(text: str | None) -> object:
    """A nested value written as JSON or as a Python literal (both occur in flattened exports)."""
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """JSON-lines objects (`project`, `service`, ...) -> dotted columns like the CSV's. Objects of
    text values (most of them: numbers arrive as text) are decoded column-wise; others (`project`
    holds its labels list) row by row."""
    for name in ("service", "sku", "project", "location", "usage", "invoice", "resource"):
        if name not in frame.columns:
            continue
        maps = decode_string_maps(frame.get_column(name))
        if maps is not None:
            columns = [maps.struct.field(key).alias(f"{name}.{key}") for key in struct_keys(maps)]
        else:
            columns = _flatten_by_row(name, frame.get_column(name).to_list())
        frame = frame.drop(name).with_columns([c for c in columns if c.name not in frame.columns])
    return frame


def _flatten_by_row(name: str, values: list[str | None]) -> list[pl.Series]:
    """`_flatten` of one column, one row at a time: for objects with lists, numbers or literals."""
    keys: dict[str, list[str | None]] = {}
    for index, text in enumerate(values):
        value = _nested(text)
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            column = keys.get(f"{name}.{key}")
            if column is None:  # a new key: one list for it, made once
                column = keys[f"{name}.{key}"] = [None] * len(values)
            column[index] = None if item is None else json.dumps(item) if isinstance(item, (list, dict)) else str(item)
    return [pl.Series(c, v, dtype=pl.String) for c, v in keys.items()]


def _labels(text: str | None) -> dict[str, str]:
    value = _nested(text)
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(item["key"]): str(item.get("value")) for item in value if isinstance(item, dict) and "key" in item}
    raise ValueError("labels are not a list of key/value pairs")


_BAD_INPUT = (InvalidOperation, ValueError, SyntaxError, KeyError, TypeError)


def _row_tags(row: dict[str, str | None]) -> str | None:
    """The row's labels over its project's, as JSON object text; raises on a list that is not one."""
    tags = _labels(row.get("project.labels")) | _labels(row.get("labels"))
    return json.dumps(tags, ensure_ascii=False, sort_keys=True) if tags else None


def _row_money(row: dict[str, str | None]) -> tuple[str | None, str | None, str, str | None, str | None]:
    """(billed, effective, credit_only, cud_id, tags) of one row, as exact text; None marks bad input."""
    try:
        cost = Decimal((row.get("cost") or "").strip())
        credits = _nested(row.get("credits")) or []
        if not isinstance(credits, list):  # as iterating it would: not a list of credits
            raise TypeError("credits: expected a list")
        total, cud, cud_id = Decimal(0), Decimal(0), None
        for credit in credits:
            amount = Decimal(str(credit["amount"]))
            total += amount
            if str(credit.get("type", "")).upper() in CUD_CREDITS:
                cud += amount
                cud_id = cud_id or credit.get("id") or credit.get("name")
        tags = _row_tags(row)
    except _BAD_INPUT:
        return None, None, "false", None, None
    credit_only = cost == 0 and total != 0 and cud == 0
    return (
        str(cost + total),
        str(cost + total - cud),
        "true" if credit_only else "false",
        None if cud_id is None else str(cud_id),
        tags,
    )


DERIVED = ("_billed", "_effective", "_credit_only", "_cud", "_tags")


def _derived(frame: pl.DataFrame) -> list[pl.Series]:
    """`_row_money` for every row, as the DERIVED columns. Most rows carry no credits: their
    billed and effective cost is their cost, and their tags are worked out once per distinct pair
    of label lists; only rows with credits are summed one by one (exact decimals)."""

    def tags_or_bad(row: dict[str, str | None]) -> tuple[str | None, bool]:
        try:
            return _row_tags(row), True
        except _BAD_INPUT:
            return None, False  # a bad label list: the row gets no money, as _row_money gives it

    def nulls() -> pl.Series:
        return pl.repeat(None, frame.height, dtype=pl.String, eager=True)

    labels = [c for c in ("labels", "project.labels") if c in frame.columns]
    tags, ok = nulls(), pl.repeat(True, frame.height, eager=True)
    if labels:
        pairs = frame.select(labels).unique()
        made = [tags_or_bad(row) for row in pairs.iter_rows(named=True)]
        table = pairs.with_columns(
            pl.Series("_tags", [m[0] for m in made], dtype=pl.String), pl.Series("_ok", [m[1] for m in made])
        )
        joined = frame.select(labels).join(table, on=labels, how="left", nulls_equal=True, maintain_order="left")
        tags, ok = joined.get_column("_tags"), joined.get_column("_ok")
    cost = frame.get_column("cost").str.strip_chars() if "cost" in frame.columns else nulls()
    billed = pl.select(pl.when(ok).then(cost)).to_series()
    columns = {
        "_billed": billed,
        "_effective": billed.clone(),
        "_credit_only": pl.repeat("false", frame.height, eager=True),
        "_cud": nulls(),
        "_tags": tags,
    }
    if "credits" in frame.columns:
        credits = frame.get_column("credits")
        with_credits = (
            credits.is_not_null() & ~credits.str.strip_chars().is_in(["", "[]", "{}"])
        ).arg_true()  # an empty list reads back as {}
        rows = frame.select([c for c in ("cost", "credits", *labels)])[with_credits]
        money = [_row_money(row) for row in rows.iter_rows(named=True)]
        for i, name in enumerate(DERIVED):
            columns[name] = columns[name].scatter(with_credits, pl.Series([m[i] for m in money], dtype=pl.String))
    return [series.alias(name) for name, series in columns.items()]


def read(path: Path, *, text: pl.DataFrame) -> Parsed:
    if detect(text.columns) is None:
        raise InputError("not a GCP billing export", path=path, row=0)
    frame = _flatten(text)
    if "invoice.month" not in frame.columns:
        raise InputError(
            "missing invoice.month: the billing period is unknown", path=path, row=0, column="invoice.month"
        )
    if "currency" not in frame.columns:
        raise InputError("no currency column: the billing currency is unknown", path=path, row=0, column="currency")
    frame = frame.with_columns(_derived(frame))
    rounded, notes = round_excess_decimals(frame, ["cost", "_billed", "_effective"], scale=MONEY_SCALE)
    rows, rejects = coerce(rounded, SCHEMA, path=path)
    rows, bad_month = reject(
        rows,
        ~pl.col("invoice.month").str.contains(r"^\d{6}$"),
        column="invoice.month",
        reason="expected a month like 202208",
    )
    rows = with_service_category(
        rows.with_columns(pl.col("service.description").alias("ServiceName")), "ServiceName", "service.id"
    )
    cost_type = pl.col("cost_type").str.strip_chars().str.to_lowercase().fill_null("regular")
    commitment_fee = pl.col("sku.description").str.to_lowercase().str.starts_with("commitment").fill_null(False) & (
        cost_type == "regular"
    )
    category = (
        pl.when(commitment_fee)
        .then(pl.lit("Purchase"))
        .when((cost_type == "regular") & (pl.col("_credit_only") == "true"))
        .then(pl.lit("Credit"))
        .otherwise(cost_type.replace_strict({k: v[0] for k, v in COST_TYPES.items()}, default=None))
    )
    period_start = pl.col("invoice.month").str.strptime(pl.Date, "%Y%m", strict=False).cast(pl.Datetime("us"))
    zero = pl.lit(0).cast(staging_rows.SCHEMA_DTYPES["EffectiveCost"])
    mapped = rows.select(
        ROW,
        pl.col("billing_account_id").alias("BillingAccountId"),
        pl.col("project.id").alias("SubAccountId"),
        pl.col("project.name").alias("SubAccountName"),
        period_start.alias("BillingPeriodStart"),
        period_start.dt.offset_by("1mo").alias("BillingPeriodEnd"),
        pl.col("usage_start_time").alias("ChargePeriodStart"),
        pl.col("usage_end_time").alias("ChargePeriodEnd"),
        category.alias("ChargeCategory"),
        cost_type.replace_strict({k: v[1] for k, v in COST_TYPES.items()}, default=None, return_dtype=pl.String).alias(
            "ChargeClass"
        ),
        pl.col("sku.description").alias("ChargeDescription"),
        pl.when(commitment_fee)
        .then(pl.lit("Recurring"))
        .when(cost_type == "regular")
        .then(pl.lit("Usage-Based"))
        .alias("ChargeFrequency"),
        pl.col("_billed").alias("BilledCost"),
        pl.when(commitment_fee).then(zero).otherwise(pl.col("_effective")).alias("EffectiveCost"),
        pl.col("cost").alias("ListCost"),
        pl.col("currency").alias("BillingCurrency"),
        pl.col("usage.amount").alias("ConsumedQuantity"),
        pl.col("usage.unit").alias("ConsumedUnit"),
        pl.col("usage.amount_in_pricing_units").alias("PricingQuantity"),
        pl.col("usage.pricing_unit").alias("PricingUnit"),
        pl.lit("Google Cloud").alias("ProviderName"),
        pl.coalesce("seller_name", pl.lit("Google")).alias("PublisherName"),
        pl.lit("Google").alias("InvoiceIssuerName"),
        pl.lit(None, dtype=pl.String).alias("InvoiceId"),
        pl.coalesce("location.region", "location.location").alias("RegionId"),
        pl.coalesce("resource.global_name", "resource.name").alias("ResourceId"),
        pl.col("resource.name").alias("ResourceName"),
        "ServiceCategory",
        "ServiceName",
        pl.col("sku.id").alias("SkuId"),
        pl.when(commitment_fee).then(pl.col("sku.id")).otherwise(pl.col("_cud")).alias("CommitmentDiscountId"),
        pl.when(commitment_fee | pl.col("_cud").is_not_null())
        .then(pl.lit("Committed Use Discount"))
        .alias("CommitmentDiscountType"),
        pl.when(pl.col("_cud").is_not_null()).then(pl.lit("Used")).alias("CommitmentDiscountStatus"),
        pl.col("_tags").alias("Tags"),
    )
    return staging_rows.finish(text, mapped, pl.concat([rejects, bad_month]), fmt="gcp-billing-export", notes=notes)


def _detect(head: Head) -> str | None:
    return detect(list(head.columns))


def _read(path: Path, content: pl.DataFrame, config: Config) -> Parsed:
    return read(path, text=content)


ADAPTER: Adapter[pl.DataFrame] = Adapter(
    name="GCP billing export",
    order=50,
    detect=_detect,
    read=_read,
    signature=SIGNATURE,
    describes="GCP billing export (JSON lines or flattened CSV)",
)
