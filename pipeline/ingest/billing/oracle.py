"""Oracle Cloud (OCI) billing exports: the FOCUS report loads, the native cost report is refused.

OCI writes two cost reports a day to its `oci-reports` bucket:
- the FOCUS report (`FOCUS Reports/`): FOCUS 1.0 columns, some under their 1.0-preview names
  (`Provider`, `Publisher`, `InvoiceIssuer`, `Region`, `UsageQuantity`, `UsageUnit`,
  `ChargeSubcategory`), and OCI's `oci_` extension columns (`oci_ReferenceNumber`,
  `oci_CompartmentId`, `oci_CompartmentName`, `oci_OverageFlag`, `oci_UnitPriceOverage`,
  `oci_BilledQuantityOverage`, `oci_CostOverage`, `oci_AttributedUsage`, `oci_AttributedCost`,
  `oci_BackReferenceNumber`). It loads as FOCUS (format `oci-focus-1.0`) once the preview names
  are read as their 1.0 names; a report already in 1.0 names is plain FOCUS.
- the native cost report (`reports/cost-csv/`): `lineItem/referenceNo`, `lineItem/tenantId`,
  `lineItem/intervalUsageStart`, `lineItem/intervalUsageEnd`, `product/service`,
  `product/compartmentName`, `usage/billedQuantity`, `cost/myCost`, `cost/myCostOverage`,
  `cost/currencyCode`, `lineItem/isCorrection`, `lineItem/backreferenceNo`, `tags/...`. Its
  corrections and overage lines have rules of their own that OCI applies itself when it writes
  the FOCUS report, so the native report is refused, naming it and the FOCUS report to use.
  The native usage report (quantities, no costs) is refused the same way.

Sources for the headers: Oracle's "Cost and Usage Reports" and "FOCUS Cost Report Schema" pages
(docs.oracle.com, iaas/Content/Billing), project-koku/nise's OCI generator (the native cost and
usage report columns), and public OCI FOCUS loaders that declare the report's table (the FOCUS
and `oci_` column list above)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.columns import FOCUS_MONEY_COLUMNS, FOCUS_REQUIRED, MONEY_SCALE
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.billing import staging_rows
from pipeline.ingest.parse import Parsed, coerce, round_excess_decimals

# FOCUS 1.0-preview name (as the OCI FOCUS report writes it) -> FOCUS 1.0 name
PREVIEW_NAMES: dict[str, str] = {
    "Provider": "ProviderName",
    "Publisher": "PublisherName",
    "InvoiceIssuer": "InvoiceIssuerName",
    "Region": "RegionId",
    "UsageQuantity": "ConsumedQuantity",
    "UsageUnit": "ConsumedUnit",
}
# columns that only OCI's native reports have
_NATIVE: tuple[str, ...] = ("lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart")
NATIVE_COST: tuple[str, ...] = (*_NATIVE, "cost/myCost")
NATIVE_USAGE: tuple[str, ...] = (*_NATIVE, "usage/consumedQuantity")
FORMAT = "oci-focus-1.0"
REFUSED = (
    "this is an Oracle Cloud {report} (OCI's own CSV: lineItem/..., product/..., {columns}), which is not read "
    "here: load OCI's FOCUS report instead (the reports bucket's `FOCUS Reports/` folder, or Billing and Cost "
    "Management > Cost and Usage Reports > FOCUS), which loads as FOCUS"
)


def _lowered(header: list[str]) -> set[str]:
    return {c.strip().lower() for c in header}


def detect(header: list[str]) -> str | None:
    """`oci-focus-1.0`, `oci-cost-report`, `oci-usage-report`, or None."""
    columns = {c.strip() for c in header}
    lowered = _lowered(header)
    if {c.lower() for c in NATIVE_COST} <= lowered:
        return "oci-cost-report"
    if {c.lower() for c in NATIVE_USAGE} <= lowered:
        return "oci-usage-report"
    renamed = {PREVIEW_NAMES.get(c, c) for c in columns}
    if any(c.lower().startswith("oci_") for c in columns) and "Provider" in columns and set(FOCUS_REQUIRED) <= renamed:
        return FORMAT
    return None


def read(path: Path, *, text: pl.DataFrame, dates: str = "auto") -> Parsed:
    found = detect(text.columns)
    if found == "oci-cost-report":
        message = REFUSED.format(report="cost report", columns="cost/myCost, cost/currencyCode")
        raise InputError(message, path=path, row=0)
    if found == "oci-usage-report":
        message = REFUSED.format(report="usage report (quantities, no costs)", columns="usage/consumedQuantity")
        raise InputError(message, path=path, row=0)
    if found != FORMAT:
        raise InputError("not an Oracle Cloud FOCUS report", path=path, row=0)
    present = {name.strip() for name in text.columns}
    renamed = text.rename(
        {
            name: PREVIEW_NAMES[name.strip()]
            for name in text.columns
            if name.strip() in PREVIEW_NAMES and PREVIEW_NAMES[name.strip()] not in present
        }
    )
    rounded, notes = round_excess_decimals(renamed, list(FOCUS_MONEY_COLUMNS), scale=MONEY_SCALE)
    rows, rejects = coerce(rounded, staging_rows.SCHEMA, path=path, dates=dates)
    return staging_rows.finish(text, rows, rejects, fmt=FORMAT, notes=notes)


def _detect(head: Head) -> str | None:
    return detect(list(head.columns))


def _read(path: Path, content: pl.DataFrame, config: Config) -> Parsed:
    return read(path, text=content, dates=config.dates.billing)


ADAPTER: Adapter[pl.DataFrame] = Adapter(
    name="Oracle Cloud cost report",
    order=20,
    detect=_detect,
    read=_read,
    signature=NATIVE_COST,
    describes="Oracle Cloud FOCUS report (CSV)",
)
