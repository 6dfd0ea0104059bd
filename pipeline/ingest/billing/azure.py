"""Azure cost details, in every layout Microsoft has shipped -> staging.billing rows.

Layouts (the format name says which, then the kind: `-actual`, `-amortized`, `-mixed` or
`-unknown`, from the rows: amortized files carry reservation or savings-plan usage with a cost,
or unused-commitment rows; actual files carry commitment purchases or refunds):
- `azure-ea`: Enterprise Agreement cost details (exports, portal download, Cost Details API),
  PascalCase: `CostInBillingCurrency` (older downloads `Cost`), `BillingCurrencyCode` (or
  `BillingCurrency`), `ProductName` (or `Product`). Pay-as-you-go accounts export this layout too.
- `azure-mca`: Microsoft Customer Agreement, camelCase: `costInBillingCurrency`,
  `billingCurrency`, `invoiceId`; the pricing-currency columns beside them
  (`costInPricingCurrency`, `costInUsd`, `pricingCurrency`) are not the bill and are not read.
- `azure-partner`: Microsoft Partner Agreement / CSP (billing-account or subscription scope):
  the MCA columns plus `partnerName`, `partnerTenantId`, `customerTenantId`, `customerName`.
- `azure-legacy-usage`: the older usage details (pay-as-you-go 2019-11-01, EA 2019-10-01, and
  the retired EA reporting CSV): `SubscriptionGuid`, `UsageDateTime`, `PreTaxCost` (or
  `ExtendedCost`), `ResourceRate`, `Currency`; no charge type (every row is usage) and no
  billing period (see below). The EA 2019-10-01 file has no currency column and is refused,
  naming it: its amounts cannot be told apart by currency.

Headers are matched through one map (`azure_headers.HEADERS`): case-insensitively, ignoring
spaces, `-` and `_` (`Meter Sub-Category`), a byte-order mark dropped, and a localised portal download's header
(`Kategorie der Verbrauchseinheit (MeterCategory)`) by the English name in its brackets. Dates
are ISO or Azure's month/day/year (day/month/year when the file's days say so, or the config's
`[dates]` setting; see parse.date_order). Tags come as a JSON object, or without its braces
(`"env": "prod","team": "ml"`, how Azure writes them in CSV).

Billing period: Enterprise, Customer and Partner Agreements invoice by calendar month, so a row
whose `BillingPeriodStartDate` is empty (subscription-scope CSP exports leave it empty) gets the
calendar month of its charge date, and so does every row of the legacy layout, which has no
billing period column; the load message counts them. Pay-as-you-go invoices follow the
subscription's own billing day, so a pay-as-you-go row (its `BillingProfileId` is its
subscription) without a billing period cannot be dated that way and is quarantined.

Billing account: the invoice scope, as FOCUS defines it: the billing profile (MCA, MPA; an EA
enrollment's profile is the enrollment), else the billing account, else (legacy usage details,
CSP subscription-scope exports) the subscription.

Cost semantics, per row, as FOCUS defines them for commitments (so an actual file, an amortized
file or a mix load the same way and a purchase is never counted twice):
- a commitment purchase or refund (ChargeType Purchase or Refund with PricingModel Reservation
  or SavingsPlan): BilledCost = cost, EffectiveCost = 0 (its cost reaches usage as amortized
  cost); a refund is a Purchase with ChargeClass Correction;
- usage covered by a commitment (PricingModel Reservation or SavingsPlan): BilledCost = 0,
  EffectiveCost = cost (0 in an actual file, the amortized cost in an amortized one);
- UnusedReservation / UnusedSavingsPlan: Usage with CommitmentDiscountStatus Unused, BilledCost 0,
  EffectiveCost = cost;
- everything else: BilledCost = EffectiveCost = cost. Other refunds are Credit rows (Correction).
So an amortized file's billed total is its on-demand cost; its purchases are in the actual file.
Amortized costs printed with more than 18 decimals are rounded half to even (see parse).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.columns import MONEY_SCALE
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.billing import staging_rows
from pipeline.ingest.billing.azure_headers import SPELLINGS, header_key, resolve
from pipeline.ingest.parse import (
    ROW,
    Col,
    Kind,
    Parsed,
    Tally,
    coerce,
    reject,
    round_excess_decimals,
    single_currency,
)
from pipeline.ingest.services import with_service_category

T, M, DT = Kind.TEXT, Kind.MONEY, Kind.DATE
SCHEMA: dict[str, Col] = {
    "billingaccountid": Col(T),
    "billingaccountname": Col(T),
    "billingprofileid": Col(T),
    "billingprofilename": Col(T),
    "billingperiodstartdate": Col(DT),
    "billingperiodenddate": Col(DT),
    "subscriptionid": Col(T),
    "subscriptionname": Col(T),
    "date": Col(DT, True),
    "chargetype": Col(T, True),
    "pricingmodel": Col(T),
    "frequency": Col(T),
    "cost": Col(M, True),
    "paygcost": Col(M),
    "paygprice": Col(M),
    "quantity": Col(Kind.QUANTITY),
    "unitofmeasure": Col(T),
    "billingcurrency": Col(T),
    "pricingcurrency": Col(T),
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
    "partnername": Col(T),
    "tags": Col(T),
}
# for the "closest format" message of an unrecognised file
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
_PARTNER = ("partnername", "partnertenantid", "customertenantid")


def layout(found: dict[str, str] | list[str]) -> str | None:
    """ea, mca, partner or legacy for an Azure cost details header; None for anything else."""
    fields = set(found if isinstance(found, dict) else resolve(found))
    if not {"date", "cost", "subscriptionid"} <= fields:
        return None
    if not fields & {"chargetype", "billingperiodstartdate", "metercategory", "consumedservice"}:
        return None
    if fields & set(_PARTNER):
        return "partner"
    if "invoiceid" in fields:
        return "mca"
    return "ea" if "chargetype" in fields else "legacy"


def detect(header: list[str]) -> str | None:
    found = layout(header)
    return None if found is None else f"azure-{found}"


def _canonical(text: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, dict[str, str]]:
    """The file's Azure fields under their canonical names (the delivered frame stays as is)."""
    keys: dict[str, list[str]] = {}
    for name in text.columns:
        if name != ROW:
            keys.setdefault(header_key(name), []).append(name)
    clashes = sorted(names for key, names in keys.items() if len(names) > 1 and key in SPELLINGS)
    if clashes:
        field = SPELLINGS[header_key(clashes[0][0])]
        raise InputError(f"columns {clashes[0]} name the same Azure field ({field})", path=path, row=0)
    found = resolve(text.columns)
    return text.select(ROW, *[pl.col(name).alias(canonical) for canonical, name in found.items()]), found


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


def _with_tags(frame: pl.DataFrame) -> pl.DataFrame:
    if "tags" not in frame.columns:
        return frame
    distinct = frame.get_column("tags").unique()  # a file has few tag sets: each is read once
    written = pl.Series([_tags_json(t) for t in distinct.to_list()], dtype=pl.String)
    return frame.with_columns(pl.col("tags").replace_strict(distinct, written, return_dtype=pl.String))


def _billing_period(rows: pl.DataFrame, *, has_column: bool) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Rows with `_period_start` / `_period_end` (the inclusive last day), the pay-as-you-go rows
    that have no billing period (quarantined), and the load notes (see the module docstring)."""
    missing = pl.col("billingperiodstartdate").is_null()
    payg = pl.col("billingprofileid").str.to_lowercase() == pl.col("subscriptionid").str.to_lowercase()
    rows, rejects = reject(
        rows,
        missing & payg,
        column="billingperiodstartdate",
        reason="required value is missing: a pay-as-you-go billing period starts on the subscription's billing day, "
        "so it cannot be taken from the charge date; re-export with BillingPeriodStartDate",
    )
    derived = rows.select(missing.sum()).item()
    notes: list[str] = []
    if not has_column:
        notes.append(
            "the file has no billing period column (legacy usage details): each row's billing period is the "
            "calendar month of its usage date"
        )
    elif derived:
        notes.append(
            Tally(
                "{count} row(s) without BillingPeriodStartDate: billing period taken as the calendar month "
                "of the charge date (Enterprise, Customer and Partner Agreements invoice by calendar month)",
                derived,
            )
        )
    start = pl.coalesce(pl.col("billingperiodstartdate"), pl.col("date").dt.month_start())
    last = pl.when(missing).then(None).otherwise(pl.col("billingperiodenddate"))
    rows = rows.with_columns(start.alias("_period_start")).with_columns(
        pl.coalesce(last, pl.col("_period_start").dt.offset_by("1mo").dt.offset_by("-1d")).alias("_period_end")
    )
    return rows, rejects, notes


def read(path: Path, *, text: pl.DataFrame, dates: str = "auto") -> Parsed:
    frame, found = _canonical(text, path)
    kind_of_file = layout(found)
    if kind_of_file is None:
        raise InputError("not an Azure cost details file", path=path, row=0)
    notes = []
    if "chargetype" not in frame.columns:  # legacy usage details: usage only
        frame = frame.with_columns(pl.lit("Usage").alias("chargetype"), pl.lit("UsageBased").alias("frequency"))
    frame = single_currency(
        frame, "billingcurrency", (), path=path, names="BillingCurrency, BillingCurrencyCode or Currency"
    )
    amounts = ["cost", "paygcost", "paygprice", "quantity"]
    rounded, rounding = round_excess_decimals(_with_tags(frame), amounts, scale=MONEY_SCALE)
    rows, rejects = coerce(rounded, SCHEMA, path=path, dates=dates, dates_default="mdy")
    rows, undated, period_notes = _billing_period(rows, has_column="billingperiodstartdate" in frame.columns)
    notes += period_notes + rounding
    charge_type = pl.col("chargetype").str.strip_chars().str.to_lowercase()
    model = pl.col("pricingmodel").str.strip_chars().str.to_lowercase().fill_null("")
    covered = model.is_in(list(COMMITMENT_MODELS))
    purchase = charge_type.is_in(["purchase", "refund"]) & covered
    unused = charge_type.is_in(["unusedreservation", "unusedsavingsplan"])
    zero = pl.lit(0).cast(staging_rows.SCHEMA_DTYPES["BilledCost"])
    cost = pl.col("cost")
    billed = pl.when(purchase).then(cost).when(unused | ((charge_type == "usage") & covered)).then(zero).otherwise(cost)
    effective = pl.when(purchase).then(zero).otherwise(cost)
    category = (
        pl.when(purchase)
        .then(pl.lit("Purchase"))
        .otherwise(charge_type.replace_strict({k: v[0] for k, v in CHARGE_TYPES.items()}, default=None))
    )
    same_currency = pl.col("pricingcurrency").is_null() | (
        pl.col("pricingcurrency").str.to_uppercase() == pl.col("billingcurrency").str.to_uppercase()
    )
    list_cost = pl.coalesce(pl.col("paygcost"), pl.when(same_currency).then(pl.col("paygprice") * pl.col("quantity")))
    account = pl.coalesce("billingprofileid", "billingaccountid", "subscriptionid")
    account_name = (
        pl.when(pl.col("billingprofileid").is_not_null())
        .then(pl.col("billingprofilename"))
        .when(pl.col("billingaccountid").is_not_null())
        .then(pl.col("billingaccountname"))
        .otherwise(pl.col("subscriptionname"))
    )
    fmt = f"azure-{kind_of_file}-usage" if kind_of_file == "legacy" else f"azure-{kind_of_file}-{_kind(rows)}"
    rows = with_service_category(
        rows.with_columns(pl.coalesce("metercategory", "consumedservice").alias("ServiceName")),
        "ServiceName",
        "consumedservice",
    )
    mapped = rows.select(
        ROW,
        account.alias("BillingAccountId"),
        account_name.alias("BillingAccountName"),
        pl.col("subscriptionid").alias("SubAccountId"),
        pl.col("subscriptionname").alias("SubAccountName"),
        pl.col("_period_start").cast(pl.Datetime("us")).alias("BillingPeriodStart"),
        (pl.col("_period_end").cast(pl.Datetime("us")) + pl.duration(days=1)).alias("BillingPeriodEnd"),
        pl.col("date").cast(pl.Datetime("us")).alias("ChargePeriodStart"),
        (pl.col("date").cast(pl.Datetime("us")) + pl.duration(days=1)).alias("ChargePeriodEnd"),
        category.alias("ChargeCategory"),
        charge_type.replace_strict(
            {k: v[1] for k, v in CHARGE_TYPES.items()}, default=None, return_dtype=pl.String
        ).alias("ChargeClass"),
        pl.coalesce("product", "metername").alias("ChargeDescription"),
        pl.col("frequency")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(FREQUENCIES, default=None)
        .alias("ChargeFrequency"),
        billed.alias("BilledCost"),
        effective.alias("EffectiveCost"),
        list_cost.cast(staging_rows.SCHEMA_DTYPES["ListCost"], strict=False).alias("ListCost"),
        pl.col("billingcurrency").alias("BillingCurrency"),
        pl.col("quantity").alias("ConsumedQuantity"),
        pl.col("unitofmeasure").alias("ConsumedUnit"),
        pl.col("quantity").alias("PricingQuantity"),
        pl.col("unitofmeasure").alias("PricingUnit"),
        pl.lit("Microsoft").alias("ProviderName"),
        pl.when(pl.col("publishertype").str.to_lowercase() == "marketplace")
        .then(pl.col("publishername"))
        .otherwise(pl.lit("Microsoft"))
        .alias("PublisherName"),
        pl.coalesce(pl.col("partnername"), pl.lit("Microsoft")).alias("InvoiceIssuerName"),
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
        pl.when(unused)
        .then(pl.lit("Unused"))
        .when(covered & (charge_type == "usage"))
        .then(pl.lit("Used"))
        .alias("CommitmentDiscountStatus"),
        pl.col("tags").alias("Tags"),
    )
    return staging_rows.finish(text, mapped, pl.concat([rejects, undated]), fmt=fmt, notes=notes)


def _kind(rows: pl.DataFrame) -> str:
    """actual, amortized or unknown (only on-demand rows: the two are the same then)."""
    charge_type = pl.col("chargetype").str.to_lowercase()
    covered = pl.col("pricingmodel").str.to_lowercase().is_in(list(COMMITMENT_MODELS))
    amortized = rows.select(
        (
            (charge_type.is_in(["unusedreservation", "unusedsavingsplan"]))
            | ((charge_type == "usage") & covered & (pl.col("cost") != 0))
        ).any()
    ).item()
    actual = rows.select((charge_type.is_in(["purchase", "refund"]) & covered).any()).item()
    if amortized and not actual:
        return "amortized"
    if actual and not amortized:
        return "actual"
    return "mixed" if actual and amortized else "unknown"


def _detect(head: Head) -> str | None:
    return detect(list(head.columns))


def _read(path: Path, content: pl.DataFrame, config: Config) -> Parsed:
    return read(path, text=content, dates=config.dates.billing)


ADAPTER: Adapter[pl.DataFrame] = Adapter(
    name="Azure cost details",
    order=40,
    detect=_detect,
    read=_read,
    signature=SIGNATURE,
    describes="Azure cost details (EA, MCA, partner/CSP or legacy usage details; actual or amortized; CSV)",
)
