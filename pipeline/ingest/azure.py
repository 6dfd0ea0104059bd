"""Azure cost details (EA and MCA layouts; actual and amortized) -> staging.billing rows.

Headers are matched case-insensitively (EA PascalCase, MCA camelCase); a UTF-8 byte-order mark is
dropped; `MM/DD/YYYY` and ISO dates are both read; `Tags` may come with or without braces. The
layout (`azure-ea` / `azure-mca`: MCA files carry an invoice id) and the kind (`-actual` /
`-amortized`, from the rows: amortized files carry reservation or savings-plan usage with a
cost, or unused-commitment rows; actual files carry commitment purchases) go into the format name.

Cost semantics, per row, as FOCUS defines them for commitments (so an actual file, an amortized
file or a mix load the same way and a purchase is never counted twice):
- a commitment purchase (ChargeType Purchase with PricingModel Reservation or SavingsPlan):
  BilledCost = cost, EffectiveCost = 0 (its cost reaches usage as amortized cost);
- usage covered by a commitment (PricingModel Reservation or SavingsPlan): BilledCost = 0,
  EffectiveCost = cost (0 in an actual file, the amortized cost in an amortized one);
- UnusedReservation / UnusedSavingsPlan: Usage with CommitmentDiscountStatus Unused, BilledCost 0,
  EffectiveCost = cost;
- everything else: BilledCost = EffectiveCost = cost. Refunds are Credit rows (Correction).
So an amortized file's billed total is its on-demand cost; its purchases are in the actual file.
Amortized costs printed with more than 18 decimals are rounded half to even (see parse).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.columns import MONEY_SCALE
from pipeline.errors import InputError
from pipeline.ingest import focus
from pipeline.ingest.parse import ROW, Col, Kind, Parsed, by_distinct, coerce, round_excess_decimals, single_currency
from pipeline.ingest.services import with_service_category

T, M, DT = Kind.TEXT, Kind.MONEY, Kind.DATE
# canonical (lower-case) name -> the header spellings that mean it, first found wins
ALIASES: dict[str, tuple[str, ...]] = {
    "cost": ("costinbillingcurrency", "cost", "pretaxcost"),
    "billingcurrency": ("billingcurrency", "billingcurrencycode"),
    "subscriptionid": ("subscriptionid", "subscriptionguid"),
    "resourcelocation": ("resourcelocation", "resourcelocationnormalized"),
    "resourceid": ("resourceid", "instanceid", "instancename"),
    "unitprice": ("unitprice",),
}
SCHEMA: dict[str, Col] = {
    "billingaccountid": Col(T),
    "billingaccountname": Col(T),
    "billingperiodstartdate": Col(DT, True),
    "billingperiodenddate": Col(DT),
    "subscriptionid": Col(T),
    "subscriptionname": Col(T),
    "date": Col(DT, True),
    "chargetype": Col(T, True),
    "pricingmodel": Col(T),
    "frequency": Col(T),
    "cost": Col(M, True),
    "paygprice": Col(M),
    "quantity": Col(Kind.QUANTITY),
    "unitofmeasure": Col(T),
    "billingcurrency": Col(T),
    "metercategory": Col(T),
    "consumedservice": Col(T),
    "product": Col(T),
    "metername": Col(T),
    "partnumber": Col(T),
    "productid": Col(T),
    "meterid": Col(T),
    "resourcelocation": Col(T),
    "resourceid": Col(T),
    "resourcename": Col(T),
    "publishername": Col(T),
    "publishertype": Col(T),
    "invoiceid": Col(T),
    "reservationid": Col(T),
    "benefitid": Col(T),
    "tags": Col(T),
}
SIGNATURE: tuple[str, ...] = ("Date", "ChargeType", "BillingPeriodStartDate", "SubscriptionId", "Cost")
CHARGE_TYPES: dict[str, tuple[str, str | None]] = {
    "usage": ("Usage", None),
    "purchase": ("Purchase", None),
    "refund": ("Credit", "Correction"),
    "credit": ("Credit", None),
    "tax": ("Tax", None),
    "adjustment": ("Adjustment", None),
    "roundingadjustment": ("Adjustment", None),
    "unusedreservation": ("Usage", None),
    "unusedsavingsplan": ("Usage", None),
}
FREQUENCIES = {"usagebased": "Usage-Based", "recurring": "Recurring", "onetime": "One-Time"}
COMMITMENT_MODELS = {"reservation": "Reservation", "savingsplan": "Savings Plan"}


def detect(header: list[str]) -> str | None:
    columns = {c.strip().lower() for c in header}
    if {"date", "chargetype", "billingperiodstartdate"} <= columns and columns & set(ALIASES["cost"]):
        return "azure-mca" if "invoiceid" in columns else "azure-ea"
    return None


def _canonical(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    lowered = {c: c.strip().lower() for c in frame.columns if c != ROW}
    duplicates = sorted({v for v in lowered.values() if list(lowered.values()).count(v) > 1})
    if duplicates:
        raise InputError(f"columns differ only in case: {duplicates}", path=path, row=0)
    frame = frame.rename(lowered)
    for canonical, spellings in ALIASES.items():
        present = [s for s in spellings if s in frame.columns]
        if present and canonical not in frame.columns:
            frame = frame.rename({present[0]: canonical})
    return frame


def _us_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """MM/DD/YYYY (Azure's CSV default) -> ISO text; ISO text stays."""
    def iso(value: pl.Expr) -> pl.Expr:
        text = value.str.strip_chars()
        us = text.str.extract(r"^(\d{1,2}/\d{1,2}/\d{4})", 1).str.strptime(pl.Date, "%m/%d/%Y", strict=False).dt.strftime("%Y-%m-%d")
        return pl.coalesce(us, text)

    columns = []
    for name in ("date", "billingperiodstartdate", "billingperiodenddate"):
        if name in frame.columns:  # a month has 31 dates: each is read once
            columns.append(by_distinct(frame.get_column(name), iso))
    return frame.with_columns(columns)


def _tags_json(text: str | None) -> str | None:
    """Azure tags, with or without braces, as a JSON object text (unparseable text kept as is,
    so the row is quarantined with the reason)."""
    if text is None or not text.strip():
        return None
    body = text.strip()
    candidate = body if body.startswith("{") else "{" + body + "}"
    try:
        value = json.loads(candidate)
    except ValueError:
        return text
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else text


def _currency(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    return single_currency(frame, "billingcurrency", ("pricingcurrency", "pricingcurrencycode", "currency"), path=path,
                           names="BillingCurrency or billingCurrencyCode")


def read(path: Path, *, text: pl.DataFrame) -> Parsed:
    layout = detect(text.columns)
    if layout is None:
        raise InputError("not an Azure cost details file", path=path, row=0)
    frame = _currency(_us_dates(_canonical(text, path)), path)
    if "tags" in frame.columns:
        distinct = frame.get_column("tags").unique()  # a file has few tag sets: each is read once
        frame = frame.with_columns(pl.col("tags").replace_strict(distinct, pl.Series([_tags_json(t) for t in distinct.to_list()], dtype=pl.String), return_dtype=pl.String))
    rounded, notes = round_excess_decimals(frame, ["cost", "paygprice", "quantity"], scale=MONEY_SCALE)
    rows, rejects = coerce(rounded, SCHEMA, path=path)
    charge_type = pl.col("chargetype").str.strip_chars().str.to_lowercase()
    model = pl.col("pricingmodel").str.strip_chars().str.to_lowercase().fill_null("")
    covered = model.is_in(list(COMMITMENT_MODELS))
    purchase = (charge_type == "purchase") & covered
    unused = charge_type.is_in(["unusedreservation", "unusedsavingsplan"])
    zero = pl.lit(0).cast(focus.SCHEMA_DTYPES["BilledCost"])
    cost = pl.col("cost")
    billed = pl.when(purchase).then(cost).when(unused | ((charge_type == "usage") & covered)).then(zero).otherwise(cost)
    effective = pl.when(purchase).then(zero).otherwise(cost)
    end_of_period = pl.coalesce(pl.col("billingperiodenddate"), pl.col("billingperiodstartdate").dt.offset_by("1mo").dt.offset_by("-1d"))
    kind = {"azure-ea": "ea", "azure-mca": "mca"}[layout]
    fmt = f"azure-{kind}-{_kind(rows)}"
    rows = with_service_category(rows.with_columns(pl.coalesce("metercategory", "consumedservice").alias("ServiceName")), "ServiceName", "consumedservice")
    mapped = rows.select(
        ROW,
        pl.col("billingaccountid").alias("BillingAccountId"),
        pl.col("billingaccountname").alias("BillingAccountName"),
        pl.col("subscriptionid").alias("SubAccountId"),
        pl.col("subscriptionname").alias("SubAccountName"),
        pl.col("billingperiodstartdate").cast(pl.Datetime("us")).alias("BillingPeriodStart"),
        (end_of_period.cast(pl.Datetime("us")) + pl.duration(days=1)).alias("BillingPeriodEnd"),
        pl.col("date").cast(pl.Datetime("us")).alias("ChargePeriodStart"),
        (pl.col("date").cast(pl.Datetime("us")) + pl.duration(days=1)).alias("ChargePeriodEnd"),
        charge_type.replace_strict({k: v[0] for k, v in CHARGE_TYPES.items()}, default=None).alias("ChargeCategory"),
        charge_type.replace_strict({k: v[1] for k, v in CHARGE_TYPES.items()}, default=None, return_dtype=pl.String).alias("ChargeClass"),
        pl.coalesce("product", "metername").alias("ChargeDescription"),
        pl.col("frequency").str.strip_chars().str.to_lowercase().replace_strict(FREQUENCIES, default=None).alias("ChargeFrequency"),
        billed.alias("BilledCost"),
        effective.alias("EffectiveCost"),
        pl.when(pl.col("paygprice").is_not_null() & pl.col("quantity").is_not_null()).then(pl.col("paygprice") * pl.col("quantity")).cast(focus.SCHEMA_DTYPES["ListCost"], strict=False).alias("ListCost"),
        pl.col("billingcurrency").alias("BillingCurrency"),
        pl.col("quantity").alias("ConsumedQuantity"),
        pl.col("unitofmeasure").alias("ConsumedUnit"),
        pl.col("quantity").alias("PricingQuantity"),
        pl.col("unitofmeasure").alias("PricingUnit"),
        pl.lit("Microsoft").alias("ProviderName"),
        pl.when(pl.col("publishertype").str.to_lowercase() == "marketplace").then(pl.col("publishername")).otherwise(pl.lit("Microsoft")).alias("PublisherName"),
        pl.lit("Microsoft").alias("InvoiceIssuerName"),
        pl.col("invoiceid").alias("InvoiceId"),
        pl.col("resourcelocation").alias("RegionId"),
        pl.col("resourceid").alias("ResourceId"),
        pl.coalesce("resourcename", pl.col("resourceid").str.extract(r"([^/]+)/?$", 1)).alias("ResourceName"),
        "ServiceCategory",
        "ServiceName",
        pl.coalesce("partnumber", "productid", "meterid").alias("SkuId"),
        pl.col("meterid").alias("SkuPriceId"),
        pl.when(covered).then(pl.coalesce("benefitid", "reservationid")).alias("CommitmentDiscountId"),
        pl.when(covered).then(model.replace_strict(COMMITMENT_MODELS, default=None)).alias("CommitmentDiscountType"),
        pl.when(unused).then(pl.lit("Unused")).when(covered & (charge_type == "usage")).then(pl.lit("Used")).alias("CommitmentDiscountStatus"),
        pl.col("tags").alias("Tags"),
    )
    return focus.finish(text, mapped, rejects, fmt=fmt, notes=notes)


def _kind(rows: pl.DataFrame) -> str:
    """actual, amortized or unknown (only on-demand rows: the two are the same then)."""
    charge_type = pl.col("chargetype").str.to_lowercase()
    covered = pl.col("pricingmodel").str.to_lowercase().is_in(list(COMMITMENT_MODELS))
    amortized = rows.select(((charge_type.is_in(["unusedreservation", "unusedsavingsplan"])) | ((charge_type == "usage") & covered & (pl.col("cost") != 0))).any()).item()
    actual = rows.select(((charge_type == "purchase") & covered).any()).item()
    if amortized and not actual:
        return "amortized"
    if actual and not amortized:
        return "actual"
    return "mixed" if actual and amortized else "unknown"
