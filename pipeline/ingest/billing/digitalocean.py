"""DigitalOcean invoice CSV -> staging.billing rows (FOCUS 1.2 columns).

DigitalOcean bills a team once a month; each invoice can be downloaded as CSV from the control
panel (Billing > History > Download as CSV), with `doctl invoice csv <uuid> <file>`, or from the
API (`GET /v2/customers/my/invoices/{invoice_uuid}/csv`). Its columns, as the API reference's
example answer and the billing docs show them:

    product,group_description,description,hours,start,end,USD,project_name,category
    Floating IPs,,Unused Floating IP - 1.1.1.1,100,2020-07-01 00:00:00 +0000,2020-07-22 18:14:39 +0000,$3.11,,iaas
    Taxes,,STATE SALES TAX (6.25%),,2020-07-01 00:00:00 +0000,2020-07-31 23:59:59 +0000,$0.16,,iaas

- one line per resource and product (`product`: Droplets, Volumes, Backups, Taxes, ...), or per
  part of a grouped product (`group_description`, e.g. a Kubernetes cluster's node pool);
- `hours`: the hours billed, empty for lines not billed by the hour;
- `start`, `end`: the charge period, with a UTC offset (`2020-07-01 00:00:00 +0000`);
- the amount, under a column named for the billing currency (`USD`), written with its symbol
  (`$3.11`); credits are negative;
- `project_name`: the DigitalOcean project the resource belongs to; `category` (iaas, paas, ...)
  is missing from older invoices.

The invoice carries no tags and no account id: the project becomes SubAccountName, Tags stay
empty and BillingAccountId null. The billing period is the calendar month the charge starts in
(DigitalOcean invoices a month on the first day of the next). `Taxes` lines are Tax, negative
amounts Credit, anything else Usage; BilledCost and EffectiveCost are the amount, exactly.

Sources: DigitalOcean's API reference, Billing, "Retrieve an Invoice CSV by UUID" (example
answer), docs.digitalocean.com/platform/billing/invoices ("Download as CSV", the project each
resource belongs to) and docs.digitalocean.com/reference/doctl/reference/invoice/csv."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from pipeline.columns import MONEY_SCALE
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.billing import staging_rows
from pipeline.ingest.parse import ROW, Col, Kind, Parsed, coerce, round_excess_decimals
from pipeline.ingest.services import with_service_category

FORMAT = "digitalocean-invoice"
SIGNATURE: tuple[str, ...] = ("product", "group_description", "description", "hours", "start", "end")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
SCHEMA: dict[str, Col] = {
    "product": Col(Kind.TEXT, True),
    "group_description": Col(Kind.TEXT),
    "description": Col(Kind.TEXT),
    "hours": Col(Kind.QUANTITY),
    "start": Col(Kind.TIMESTAMP, True),
    "end": Col(Kind.TIMESTAMP, True),
    "project_name": Col(Kind.TEXT),
}


def _currency_column(header: list[str]) -> str | None:
    found = [name for name in header if _CURRENCY.match(name.strip())]
    return found[0] if len(found) == 1 else None


def detect(header: list[str]) -> str | None:
    """`digitalocean-invoice` for the invoice CSV's header (the product columns and one column
    named for a currency), else None."""
    columns = {c.strip() for c in header}
    if set(SIGNATURE) <= columns and _currency_column(header) is not None:
        return FORMAT
    return None


def _timestamp(column: str) -> pl.Expr:
    """`2020-07-01 00:00:00 +0000` as ISO 8601 (`2020-07-01T00:00:00+00:00`), which coerce reads."""
    return pl.col(column).str.strip_chars().str.replace(r"^(\S+) (\S+) ([+-]\d\d)(\d\d)$", "${1}T${2}${3}:${4}")


def read(path: Path, *, text: pl.DataFrame, dates: str = "auto") -> Parsed:
    currency = _currency_column(text.columns)
    if detect(text.columns) is None or currency is None:
        raise InputError("not a DigitalOcean invoice CSV", path=path, row=0)
    currency = currency.strip()
    frame = text.rename({name: name.strip() for name in text.columns if name != name.strip()})
    frame = frame.with_columns(
        _timestamp("start"),
        _timestamp("end"),
        pl.col(currency).str.replace_all(r"[$€£,\s]", ""),  # `$1,016.31` -> 1016.31
        *([] if "project_name" in frame.columns else [pl.lit(None, dtype=pl.String).alias("project_name")]),
    )
    rounded, notes = round_excess_decimals(frame, [currency], scale=MONEY_SCALE)
    schema = {**SCHEMA, currency: Col(Kind.MONEY, True)}  # the amount, under its currency's name
    rows, rejects = coerce(rounded, schema, path=path, dates=dates)
    rows = rows.rename({currency: "_amount"})
    rows = with_service_category(rows.with_columns(pl.col("product").alias("ServiceName")), "ServiceName")
    tax = pl.col("product").str.strip_chars().str.to_lowercase() == "taxes"
    category = (
        pl.when(tax).then(pl.lit("Tax")).when(pl.col("_amount") < 0).then(pl.lit("Credit")).otherwise(pl.lit("Usage"))
    )
    period_start = pl.col("start").dt.truncate("1mo")
    description = pl.when(pl.col("group_description").is_not_null()).then(
        pl.concat_str(pl.col("group_description"), pl.lit(": "), pl.col("description"))
    )
    mapped = rows.select(
        ROW,
        pl.lit(None, dtype=pl.String).alias("BillingAccountId"),
        pl.col("project_name").alias("SubAccountName"),
        period_start.alias("BillingPeriodStart"),
        period_start.dt.offset_by("1mo").alias("BillingPeriodEnd"),
        pl.col("start").alias("ChargePeriodStart"),
        pl.col("end").alias("ChargePeriodEnd"),
        category.alias("ChargeCategory"),
        description.otherwise(pl.col("description")).alias("ChargeDescription"),
        pl.when(~tax & (pl.col("_amount") >= 0)).then(pl.lit("Usage-Based")).alias("ChargeFrequency"),
        pl.col("_amount").alias("BilledCost"),
        pl.col("_amount").alias("EffectiveCost"),
        pl.lit(currency).alias("BillingCurrency"),
        pl.col("hours").alias("ConsumedQuantity"),
        pl.when(pl.col("hours").is_not_null()).then(pl.lit("Hours")).alias("ConsumedUnit"),
        pl.lit("DigitalOcean").alias("ProviderName"),
        pl.lit("DigitalOcean").alias("PublisherName"),
        pl.lit("DigitalOcean").alias("InvoiceIssuerName"),
        pl.when(~tax).then(pl.col("description")).alias("ResourceName"),
        "ServiceCategory",
        "ServiceName",
    )
    return staging_rows.finish(text, mapped, rejects, fmt=FORMAT, notes=notes)


def _detect(head: Head) -> str | None:
    return detect(list(head.columns))


def _read(path: Path, content: pl.DataFrame, config: Config) -> Parsed:
    return read(path, text=content, dates=config.dates.billing)


ADAPTER: Adapter[pl.DataFrame] = Adapter(
    name="DigitalOcean invoice",
    order=60,
    detect=_detect,
    read=_read,
    signature=(*SIGNATURE, "USD"),
    describes="DigitalOcean invoice (CSV)",
)
