"""AWS Cost and Usage Reports -> staging.billing rows (FOCUS 1.2 columns).

Reads CUR 2.0 (Data Exports; snake_case columns; Parquet or CSV; `resource_tags`, `product`,
`cost_category` and `discount` as map columns, or their flattened `resource_tags_user_...` CSV
form) and the legacy CUR (CSV; `lineItem/UnblendedCost` headers; tags as `resourceTags/user:...`
columns). Legacy headers are turned into CUR 2.0 names first (`lineItem/UnblendedCost` ->
`line_item_unblended_cost`), so one mapping serves both.

Cost semantics (AWS's, as its own FOCUS export applies them):
- BilledCost is `line_item_unblended_cost` on every row, so the file's billed total is the sum of
  that column (what the invoice adds up). A savings-plan covered usage and its negation row net to 0.
- EffectiveCost amortises commitments without double counting: covered usage carries
  `savings_plan_savings_plan_effective_cost` / `reservation_effective_cost`; the negation, the
  upfront fees and RI upfront `Fee` rows carry 0; a recurring commitment fee carries only its
  unused part (`total_commitment_to_date - used_commitment`, or the RI unused fees).
- Credits, refunds and discounts are negative `Credit` rows of the service they credit (a refund
  has ChargeClass `Correction`); `Tax` rows are Tax.
- The `discount` map is informational: discount line items carry the money.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from pipeline.columns import MONEY_SCALE
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.billing import staging_rows
from pipeline.ingest.billing.aws_cur_columns import LINE_ITEM_TYPES, SCHEMA, SIGNATURE_CUR2, SIGNATURE_LEGACY
from pipeline.ingest.parse import (
    ROW,
    Kind,
    Parsed,
    coerce,
    decode_string_maps,
    json_object,
    reject,
    round_excess_decimals,
    single_currency,
    struct_keys,
)
from pipeline.ingest.services import with_service_category

_MONEY = [name for name, col in SCHEMA.items() if col.kind == Kind.MONEY]


_TAG_PREFIXES = ("resourcetags/", "resource_tags_", "resource_tags/")


def detect(header: list[str]) -> str | None:
    columns = set(header)
    if set(SIGNATURE_CUR2) <= columns:
        return "aws-cur2"
    if set(SIGNATURE_LEGACY) <= columns:
        return "aws-cur-legacy"
    return None


def snake(name: str) -> str:
    """`lineItem/UnblendedCost` -> `line_item_unblended_cost` (CUR 2.0 spelling)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.replace("/", "_"))
    return spaced.lower()


def _tag_key(column: str) -> str:
    """The tag key of a flattened tag column, without AWS's `user:` / `user_` prefix."""
    lowered = column.lower()
    for prefix in _TAG_PREFIXES:
        if lowered.startswith(prefix):
            key = column[len(prefix) :]
            return key[5:] if key.lower().startswith(("user:", "user_")) else key
    return column


def _map_keys(text: str | None, *, prefix: str = "", strip_user: bool = True) -> dict[str, str]:
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a map")
    out = {}
    for key, item in value.items():
        if item is None or item == "":
            continue
        key = str(key)
        if strip_user and key.lower().startswith(("user:", "user_")):
            key = key[5:]
        out[prefix + key] = str(item)
    return out


def _tags(row: dict[str, str | None], tag_columns: list[str]) -> str | None:
    tags: dict[str, str] = {}
    tags |= _map_keys(row.get("cost_category"), prefix="costCategory/", strip_user=False)
    tags |= _map_keys(row.get("resource_tags"))
    for column in tag_columns:
        value = row.get(column)
        if value not in (None, ""):
            tags[_tag_key(column)] = value
    return json.dumps(tags, ensure_ascii=False, sort_keys=True) if tags else None


def read(path: Path, *, text: pl.DataFrame) -> Parsed:
    fmt = detect(text.columns)
    if fmt is None:
        raise InputError("not an AWS CUR file", path=path, row=0)
    tag_columns = [c for c in text.columns if c.lower().startswith(_TAG_PREFIXES)]
    renamed = {c: snake(c) for c in text.columns if c != ROW and c not in tag_columns}
    frame = text.rename(renamed)
    # the legacy and CUR 2.0 spellings of the commitment ARNs differ in how `ARN` is split
    for spelled, canonical in (
        ("savings_plan_savings_plan_arn", "savings_plan_savings_plan_a_r_n"),
        ("reservation_reservation_arn", "reservation_reservation_a_r_n"),
    ):
        if spelled in frame.columns and canonical not in frame.columns:
            frame = frame.rename({spelled: canonical})
    if "product" in frame.columns:  # CUR 2.0 map column: its keys are the legacy product/ columns
        frame = _flatten_product(frame)
    frame = _currency(frame, path)
    if frame.columns.count(ROW) != 1 or len(set(frame.columns)) != len(frame.columns):
        raise InputError(
            "duplicate columns after normalising the header: "
            f"{sorted(c for c in frame.columns if frame.columns.count(c) > 1)}",
            path=path,
            row=0,
        )
    frame = _with_tags(frame, tag_columns)
    rounded, notes = round_excess_decimals(frame, _MONEY, scale=MONEY_SCALE)
    rows, rejects = coerce(rounded, SCHEMA, path=path, keep=("_tags", "_name"))
    known = pl.col("line_item_line_item_type").is_in(list(LINE_ITEM_TYPES))
    rows, bad_type = reject(
        rows,
        ~known,
        column="line_item_line_item_type",
        reason=f"expected a CUR line item type, one of {sorted(LINE_ITEM_TYPES)}",
    )
    rows = with_service_category(
        rows.with_columns(
            pl.col("line_item_line_item_type").cast(
                pl.Enum(list(LINE_ITEM_TYPES))
            ),  # all known now; compared as integers below
            pl.coalesce("product_product_name", "product_servicename", "line_item_product_code").alias("ServiceName"),
        ),
        "ServiceName",
        "line_item_product_code",
    )
    kind = pl.col("line_item_line_item_type")
    zero = pl.lit(0).cast(staging_rows.SCHEMA_DTYPES["BilledCost"])
    unblended = pl.col("line_item_unblended_cost")
    effective = (
        pl.when(kind == "SavingsPlanCoveredUsage")
        .then(pl.col("savings_plan_savings_plan_effective_cost").fill_null(zero))
        .when(kind.is_in(["SavingsPlanNegation", "SavingsPlanUpfrontFee"]))
        .then(zero)
        .when(kind == "SavingsPlanRecurringFee")
        .then(
            pl.col("savings_plan_total_commitment_to_date").fill_null(zero)
            - pl.col("savings_plan_used_commitment").fill_null(zero)
        )
        .when(kind == "DiscountedUsage")
        .then(pl.col("reservation_effective_cost").fill_null(zero))
        .when(kind == "RIFee")
        .then(
            pl.col("reservation_unused_amortized_upfront_fee_for_billing_period").fill_null(zero)
            + pl.col("reservation_unused_recurring_fee").fill_null(zero)
        )
        .when((kind == "Fee") & pl.col("reservation_reservation_a_r_n").is_not_null())
        .then(zero)
        .otherwise(unblended)
    )
    commitment = pl.coalesce("savings_plan_savings_plan_a_r_n", "reservation_reservation_a_r_n")
    commitment_type = (
        pl.when(pl.col("savings_plan_savings_plan_a_r_n").is_not_null())
        .then(pl.lit("Savings Plan"))
        .when(pl.col("reservation_reservation_a_r_n").is_not_null())
        .then(pl.lit("Reservation"))
    )
    status = pl.when(kind.is_in(["SavingsPlanCoveredUsage", "DiscountedUsage"])).then(pl.lit("Used"))
    category = kind.replace_strict({k: v[0] for k, v in LINE_ITEM_TYPES.items()}, default=None, return_dtype=pl.String)
    mapped = rows.select(
        ROW,
        pl.col("bill_payer_account_id").alias("BillingAccountId"),
        pl.col("bill_payer_account_name").alias("BillingAccountName"),
        pl.col("line_item_usage_account_id").alias("SubAccountId"),
        pl.col("line_item_usage_account_name").alias("SubAccountName"),
        pl.col("bill_billing_period_start_date").alias("BillingPeriodStart"),
        pl.col("bill_billing_period_end_date").alias("BillingPeriodEnd"),
        pl.col("line_item_usage_start_date").alias("ChargePeriodStart"),
        pl.col("line_item_usage_end_date").alias("ChargePeriodEnd"),
        category.alias("ChargeCategory"),
        kind.replace_strict({k: v[1] for k, v in LINE_ITEM_TYPES.items()}, default=None, return_dtype=pl.String).alias(
            "ChargeClass"
        ),
        pl.col("line_item_line_item_description").alias("ChargeDescription"),
        kind.replace_strict({k: v[2] for k, v in LINE_ITEM_TYPES.items()}, default=None, return_dtype=pl.String).alias(
            "ChargeFrequency"
        ),
        unblended.alias("BilledCost"),
        effective.alias("EffectiveCost"),
        pl.col("pricing_public_on_demand_cost").alias("ListCost"),
        pl.col("line_item_currency_code").alias("BillingCurrency"),
        pl.col("line_item_usage_amount").alias("ConsumedQuantity"),
        pl.col("pricing_unit").alias("ConsumedUnit"),
        pl.col("line_item_usage_amount").alias("PricingQuantity"),
        pl.col("pricing_unit").alias("PricingUnit"),
        pl.lit("AWS").alias("ProviderName"),
        pl.col("line_item_legal_entity").alias("PublisherName"),
        pl.col("bill_invoicing_entity").alias("InvoiceIssuerName"),
        pl.col("bill_invoice_id").alias("InvoiceId"),
        pl.coalesce("product_region_code", "product_region").alias("RegionId"),
        pl.col("line_item_resource_id").alias("ResourceId"),
        pl.col("_name").alias("ResourceName"),
        "ServiceCategory",
        "ServiceName",
        pl.col("product_sku").alias("SkuId"),
        pl.col("pricing_rate_id").alias("SkuPriceId"),
        commitment.alias("CommitmentDiscountId"),
        commitment_type.alias("CommitmentDiscountType"),
        status.alias("CommitmentDiscountStatus"),
        pl.col("_tags").alias("Tags"),
    )
    return staging_rows.finish(text, mapped, pl.concat([rejects, bad_type]), fmt=fmt, notes=notes, tags_written=True)


def _is_name(key: str) -> bool:
    return key.strip().lower() == "name"


def _with_tags(frame: pl.DataFrame, tag_columns: list[str]) -> pl.DataFrame:
    """Add `_tags` (the merged tags as JSON object text, keys sorted) and `_name` (ResourceName:
    the `Name` tag, AWS's display name). Merge order, later wins: cost categories (as
    `costCategory/<key>`), `resource_tags` (without `user:`), the flattened tag columns; empty
    values are dropped. Made once per distinct combination of tag values (a bill has far fewer
    than rows) and joined back."""
    columns = [c for c in ("cost_category", "resource_tags", *tag_columns) if c in frame.columns]
    distinct = frame.select(columns).unique()
    if not columns or distinct.height * 8 > frame.height:
        return _tag_columns(frame, tag_columns)
    made = frame.select(columns).join(
        _tag_columns(distinct, tag_columns), on=columns, how="left", nulls_equal=True, maintain_order="left"
    )
    return frame.with_columns(
        made.get_column("_tags"), made.get_column("_name")
    )  # joined on the tag columns alone: the others are not copied


def _tag_columns(frame: pl.DataFrame, tag_columns: list[str]) -> pl.DataFrame:
    """`_with_tags` on every row of `frame`, with column expressions: the keys are the tag
    columns and the keys of the decoded maps. Maps that are not objects of text values take
    `_tags_by_row`."""
    sources: list[tuple[str, pl.Expr]] = []  # (tag key, value), lowest precedence first
    decoded = {}
    for column, prefix, strip_user in (("cost_category", "costCategory/", False), ("resource_tags", "", True)):
        if column not in frame.columns:
            continue
        maps = decode_string_maps(frame.get_column(column))
        keys = [] if maps is None else struct_keys(maps)
        stripped = [key[5:] if strip_user and key.lower().startswith(("user:", "user_")) else key for key in keys]
        if maps is None or len(set(stripped)) != len(stripped):  # two spellings of one key: JSON order decides
            return _tags_by_row(frame, tag_columns)
        decoded[f"_map_{column}"] = maps.alias(f"_map_{column}")
        sources += [
            (prefix + name, pl.col(f"_map_{column}").struct.field(key))
            for key, name in zip(keys, stripped, strict=True)
        ]
    sources += [(_tag_key(column), pl.col(column)) for column in tag_columns]
    values: dict[str, pl.Expr] = {}
    for key, value in reversed(sources):
        present = pl.when(value != "").then(value)
        values[key] = pl.coalesce(values[key], present) if key in values else present
    names = sorted(key for key in values if _is_name(key))
    frame = frame.with_columns(list(decoded.values()))
    return frame.with_columns(
        json_object(list(values.items())).alias("_tags"),
        (pl.coalesce([values[k] for k in names]) if names else pl.lit(None, dtype=pl.String)).alias("_name"),
    ).drop(list(decoded))


def _tags_by_row(frame: pl.DataFrame, tag_columns: list[str]) -> pl.DataFrame:
    """`_with_tags` row by row, for maps with numbers, nested values or invalid JSON."""
    names = [c for c in ("resource_tags", "cost_category", *tag_columns) if c in frame.columns]
    tags = [_tags(row, tag_columns) for row in frame.select(names).iter_rows(named=True)]
    name = [None if t is None else next((v for k, v in json.loads(t).items() if _is_name(k)), None) for t in tags]
    return frame.with_columns(pl.Series("_tags", tags, dtype=pl.String), pl.Series("_name", name, dtype=pl.String))


def _flatten_product(frame: pl.DataFrame) -> pl.DataFrame:
    """CUR 2.0 `product` map -> `product_<key>` columns (where no such column exists yet)."""
    maps = decode_string_maps(frame.get_column("product"))
    if maps is not None:
        names = {key: "product_" + snake(key) for key in struct_keys(maps)}
        wanted = {key: name for key, name in names.items() if name not in frame.columns}
        if len(set(wanted.values())) == len(wanted):
            return frame.with_columns([maps.struct.field(key).alias(name) for key, name in wanted.items()])
    keys: dict[str, list[str | None]] = {}  # row by row: maps with numbers or nested values
    values = frame.get_column("product").to_list()
    for index, text in enumerate(values):
        if not text:
            continue
        try:
            mapping = json.loads(text)
        except ValueError:
            continue
        if not isinstance(mapping, dict):
            continue
        for key, value in mapping.items():
            name = "product_" + snake(str(key))
            if name in frame.columns:
                continue
            if name not in keys:  # a new key: one list for it, made once
                keys[name] = [None] * len(values)
            keys[name][index] = None if value is None else str(value)
    return frame.with_columns([pl.Series(name, column, dtype=pl.String) for name, column in keys.items()])


def _currency(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """line_item_currency_code, or the single currency the file names elsewhere; never a guess."""
    return single_currency(
        frame,
        "line_item_currency_code",
        ("pricing_currency",),
        path=path,
        names="lineItem/CurrencyCode or line_item_currency_code",
    )


def _detect(head: Head) -> str | None:
    return detect(list(head.columns))


def _read(path: Path, content: pl.DataFrame, config: Config) -> Parsed:
    return read(path, text=content)


ADAPTER: Adapter[pl.DataFrame] = Adapter(
    name="AWS CUR",
    order=30,
    detect=_detect,
    read=_read,
    signature=SIGNATURE_CUR2,
    describes="AWS CUR 2.0 (Parquet or CSV), AWS legacy CUR (CSV)",
    layouts=(("AWS CUR 2.0", SIGNATURE_CUR2), ("AWS legacy CUR", SIGNATURE_LEGACY)),
)
