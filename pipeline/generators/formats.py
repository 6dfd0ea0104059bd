"""The demo's billing charges (pipeline.generators.billing) rendered in each provider export format.

The demo plans its charges once, as FOCUS rows; `write_billing` writes them as FOCUS CSV,
AWS CUR 2.0 Parquet (map columns), AWS legacy CUR CSV, Azure EA cost details CSV (BOM,
MM/DD/YYYY, tags without braces) or GCP billing export JSON lines (nested labels and credits).
Each rendering follows the provider's own conventions for commitments, so that reading any of
them back gives the same ledger:
- covered usage (billed 0, effective e): CUR `SavingsPlanCoveredUsage` (unblended e) plus its
  `SavingsPlanNegation` (-e); Azure usage with PricingModel SavingsPlan and amortized cost e;
  GCP usage of cost e with a committed-use credit of -e;
- a commitment fee (billed b, effective 0): CUR `SavingsPlanRecurringFee` fully used; Azure
  Purchase with PricingModel SavingsPlan; GCP a `Commitment ...` SKU;
- a standalone credit: CUR `Credit`, Azure `Credit`, GCP a zero-cost row carrying the credit.
Azure has only a charge day: hourly charges are summed per day, meter and resource, and a
charge spanning several days lands on its first day there.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pipeline.columns import FOCUS_COLUMNS
from pipeline.generators.csvfiles import write_csv

FORMATS: tuple[str, ...] = ("focus", "cur2", "cur-legacy", "azure", "gcp")
SUFFIX = {"focus": ".csv", "cur2": ".parquet", "cur-legacy": ".csv", "azure": ".csv", "gcp": ".jsonl"}
# The FOCUS 1.2 columns of the planned rows, in the order of a FOCUS CSV: staging.billing's FOCUS
# columns without the pricing quantity and unit, with PricingCurrency after BillingCurrency and the
# commitment discount's status last.
FOCUS_HEADER = [
    added
    for name in FOCUS_COLUMNS
    if name not in ("PricingQuantity", "PricingUnit", "CommitmentDiscountStatus")
    for added in ((name, "PricingCurrency") if name == "BillingCurrency" else (name,))
] + ["CommitmentDiscountStatus"]


def write_billing(stem: Path, header: list[str], rows: list[list], fmt: str) -> Path:
    """Write FOCUS rows (lists in `header` order) at `stem` + the format's suffix."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown billing format {fmt!r}: expected one of {FORMATS}")
    path = stem.with_suffix(SUFFIX[fmt])
    path.parent.mkdir(parents=True, exist_ok=True)
    charges = [dict(zip(header, row, strict=True)) for row in rows]
    if fmt == "focus":
        write_csv(path, header, rows)
    elif fmt == "cur-legacy":
        _cur_legacy(path, charges)
    elif fmt == "cur2":
        _cur2(path, charges)
    elif fmt == "azure":
        _azure(path, charges)
    else:
        _gcp(path, charges)
    return path


def _tags(charge: dict) -> dict[str, str]:
    tags = json.loads(charge["Tags"]) if charge["Tags"] else {}
    if charge["ResourceName"]:
        tags["Name"] = charge["ResourceName"]
    return tags


def _kind(charge: dict) -> str:
    """usage, covered, commitment_fee, tax or credit."""
    if charge["ChargeCategory"] == "Purchase" and charge["CommitmentDiscountId"]:
        return "commitment_fee"
    if charge["ChargeCategory"] == "Usage" and charge["CommitmentDiscountId"]:
        assert Decimal(charge["BilledCost"]) == 0, "covered usage is billed through its commitment"
        return "covered"
    return {"Usage": "usage", "Tax": "tax", "Credit": "credit"}[charge["ChargeCategory"]]


def _aws_lines(charges: list[dict]) -> list[dict]:
    """CUR line items (legacy names) for the charges."""
    lines = []
    for number, charge in enumerate(charges, start=1):
        kind = _kind(charge)
        base = {
            "identity/LineItemId": f"li-{number}",
            "bill/PayerAccountId": charge["BillingAccountId"],
            "bill/BillingPeriodStartDate": charge["BillingPeriodStart"],
            "bill/BillingPeriodEndDate": charge["BillingPeriodEnd"],
            "bill/InvoicingEntity": charge["InvoiceIssuerName"],
            "bill/InvoiceId": charge["InvoiceId"],
            "lineItem/UsageAccountId": charge["SubAccountId"],
            "lineItem/UsageStartDate": charge["ChargePeriodStart"],
            "lineItem/UsageEndDate": charge["ChargePeriodEnd"],
            "lineItem/ProductCode": charge["ServiceName"].replace(" ", ""),
            "lineItem/UsageAmount": charge["ConsumedQuantity"],
            "lineItem/CurrencyCode": charge["BillingCurrency"],
            "lineItem/LineItemDescription": charge["ChargeDescription"],
            "lineItem/LegalEntity": charge["PublisherName"],
            "lineItem/ResourceId": charge["ResourceId"],
            "product/ProductName": charge["ServiceName"],
            "product/regionCode": charge["RegionId"],
            "product/sku": charge["SkuId"],
            "pricing/RateId": charge["SkuPriceId"],
            "pricing/unit": charge["ConsumedUnit"],
            "savingsPlan/SavingsPlanARN": charge["CommitmentDiscountId"],
            "_tags": _tags(charge),
        }
        billed, effective = charge["BilledCost"], charge["EffectiveCost"]
        if kind == "covered":
            lines.append(
                base
                | {
                    "lineItem/LineItemType": "SavingsPlanCoveredUsage",
                    "lineItem/UnblendedCost": effective,
                    "savingsPlan/SavingsPlanEffectiveCost": effective,
                }
            )
            lines.append(
                base
                | {
                    "identity/LineItemId": f"li-{number}-negation",
                    "lineItem/LineItemType": "SavingsPlanNegation",
                    "lineItem/UnblendedCost": str(-Decimal(effective)),
                    "lineItem/UsageAmount": "0",
                }
            )
        elif kind == "commitment_fee":
            used = str(Decimal(billed) - Decimal(effective))
            lines.append(
                base
                | {
                    "lineItem/LineItemType": "SavingsPlanRecurringFee",
                    "lineItem/UnblendedCost": billed,
                    "savingsPlan/TotalCommitmentToDate": billed,
                    "savingsPlan/UsedCommitment": used,
                }
            )
        else:
            assert billed == effective
            line_type = {"usage": "Usage", "tax": "Tax", "credit": "Credit"}[kind]
            lines.append(base | {"lineItem/LineItemType": line_type, "lineItem/UnblendedCost": billed})
    return lines


_CUR_COLUMNS = [
    "identity/LineItemId",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "bill/InvoicingEntity",
    "bill/InvoiceId",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "lineItem/LegalEntity",
    "lineItem/ResourceId",
    "product/ProductName",
    "product/regionCode",
    "product/sku",
    "pricing/RateId",
    "pricing/unit",
    "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
]


def _cur_legacy(path: Path, charges: list[dict]) -> None:
    lines = _aws_lines(charges)
    keys = sorted({k for line in lines for k in line["_tags"]})
    header = _CUR_COLUMNS + [f"resourceTags/user:{k}" for k in keys]
    rows = [[line.get(c) or "" for c in _CUR_COLUMNS] + [line["_tags"].get(k, "") for k in keys] for line in lines]
    write_csv(path, header, rows)


def _snake(name: str) -> str:
    from pipeline.ingest.billing.aws_cur import snake

    return snake(name).replace("savings_plan_savings_plan_arn", "savings_plan_savings_plan_a_r_n")


def _cur2(path: Path, charges: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = _aws_lines(charges)
    money = {
        "lineItem/UnblendedCost",
        "lineItem/UsageAmount",
        "savingsPlan/SavingsPlanEffectiveCost",
        "savingsPlan/TotalCommitmentToDate",
        "savingsPlan/UsedCommitment",
    }
    in_product = {"product/ProductName", "product/regionCode", "product/sku"}
    columns: dict[str, pa.Array] = {}
    for name in _CUR_COLUMNS:
        if name in in_product:
            continue
        values = [line.get(name) or None for line in lines]
        if name in money:  # CUR 2.0 writes amounts as doubles
            columns[_snake(name)] = pa.array([None if v is None else float(v) for v in values], pa.float64())
        elif name.endswith("Date"):
            moments = [None if v is None else datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values]
            columns[_snake(name)] = pa.array(
                [None if m is None else m.replace(tzinfo=None) for m in moments], pa.timestamp("ms")
            )
        else:
            columns[_snake(name)] = pa.array(values, pa.string())
    string_map = pa.map_(pa.string(), pa.string())
    columns["product"] = pa.array(
        [
            [
                ("product_name", line["product/ProductName"]),
                ("region_code", line["product/regionCode"]),
                ("sku", line["product/sku"]),
            ]
            for line in lines
        ],
        string_map,
    )
    columns["resource_tags"] = pa.array(
        [[(f"user_{k}", v) for k, v in line["_tags"].items()] for line in lines], string_map
    )
    columns["cost_category"] = pa.array([[] for _ in lines], string_map)
    columns["discount"] = pa.array([[] for _ in lines], pa.map_(pa.string(), pa.float64()))
    pq.write_table(pa.table(columns), path)


def _us_date(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%m/%d/%Y")


_AZURE_COLUMNS = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingPeriodStartDate",
    "BillingPeriodEndDate",
    "SubscriptionId",
    "SubscriptionName",
    "Date",
    "Product",
    "PartNumber",
    "MeterCategory",
    "Quantity",
    "UnitOfMeasure",
    "Cost",
    "BillingCurrency",
    "ResourceLocation",
    "ResourceId",
    "ResourceName",
    "Tags",
    "PublisherName",
    "PublisherType",
    "ChargeType",
    "Frequency",
    "PricingModel",
    "benefitId",
    "MeterId",
]


def _azure(path: Path, charges: list[dict]) -> None:
    """One row per day, meter and resource, as Azure writes them: hourly charges are summed."""
    rows: dict[tuple, list] = {}
    for charge in charges:
        kind = _kind(charge)
        period_end = datetime.fromisoformat(charge["BillingPeriodEnd"].replace("Z", "+00:00")) - timedelta(days=1)
        marketplace = charge["PublisherName"] != charge["InvoiceIssuerName"]
        tags = json.loads(charge["Tags"]) if charge["Tags"] else {}
        cost = charge["EffectiveCost"] if kind == "covered" else charge["BilledCost"]
        row = [
            charge["BillingAccountId"],
            charge["BillingAccountName"],
            _us_date(charge["BillingPeriodStart"]),
            period_end.strftime("%m/%d/%Y"),
            charge["SubAccountId"],
            charge["SubAccountName"],
            _us_date(charge["ChargePeriodStart"]),
            charge["ChargeDescription"],
            charge["SkuId"],
            charge["ServiceName"],
            charge["ConsumedQuantity"],
            charge["ConsumedUnit"],
            cost,
            charge["BillingCurrency"],
            charge["RegionId"],
            charge["ResourceId"],
            charge["ResourceName"],
            json.dumps(tags)[1:-1] if tags else "",  # Azure writes tags without braces
            charge["PublisherName"] if marketplace else "Microsoft",
            "Marketplace" if marketplace else "Azure",
            {"usage": "Usage", "covered": "Usage", "commitment_fee": "Purchase", "tax": "Tax", "credit": "Credit"}[
                kind
            ],
            {"Usage-Based": "UsageBased", "Recurring": "Recurring", "One-Time": "OneTime"}[charge["ChargeFrequency"]],
            "SavingsPlan" if kind in ("covered", "commitment_fee") else "OnDemand",
            charge["CommitmentDiscountId"],
            charge["SkuPriceId"],
        ]
        quantity, amount = _AZURE_COLUMNS.index("Quantity"), _AZURE_COLUMNS.index("Cost")
        key = tuple(v for i, v in enumerate(row) if i not in (quantity, amount))
        if key in rows:
            rows[key][quantity] = str(Decimal(rows[key][quantity]) + Decimal(row[quantity]))
            rows[key][amount] = str(Decimal(rows[key][amount]) + Decimal(row[amount]))
        else:
            rows[key] = row
    write_csv(path, _AZURE_COLUMNS, list(rows.values()), encoding="utf-8-sig")


def _gcp(path: Path, charges: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for charge in charges:
            kind = _kind(charge)
            tags = json.loads(charge["Tags"]) if charge["Tags"] else {}
            billed, effective = charge["BilledCost"], charge["EffectiveCost"]
            credits, cost, description = [], billed, charge["ChargeDescription"]
            if kind == "covered":
                cost = effective
                credits = [
                    {
                        "name": "Committed use discount",
                        "amount": float(-Decimal(effective)),
                        "type": "COMMITTED_USAGE_DISCOUNT",
                        "id": charge["CommitmentDiscountId"],
                    }
                ]
            elif kind == "commitment_fee":
                description = "Commitment: " + description
            elif kind == "credit":
                cost = "0"
                credits = [
                    {"name": description, "amount": float(Decimal(billed)), "type": "PROMOTION", "id": "promo-1"}
                ]
            record = {
                "billing_account_id": charge["BillingAccountId"],
                "service": {
                    "id": charge["ServiceName"].replace(" ", "-").lower(),
                    "description": charge["ServiceName"],
                },
                "sku": {
                    "id": charge["CommitmentDiscountId"] if kind == "commitment_fee" else charge["SkuId"],
                    "description": description,
                },
                "usage_start_time": charge["ChargePeriodStart"],
                "usage_end_time": charge["ChargePeriodEnd"],
                "project": {"id": charge["SubAccountId"], "name": charge["SubAccountName"], "labels": []},
                "labels": [{"key": k, "value": v} for k, v in tags.items()],
                "location": {"region": charge["RegionId"]},
                "resource": {"name": charge["ResourceName"] or None, "global_name": charge["ResourceId"]},
                "cost": float(Decimal(cost)),
                "currency": charge["BillingCurrency"],
                "usage": {"amount": float(Decimal(charge["ConsumedQuantity"])), "unit": charge["ConsumedUnit"]},
                "credits": credits,
                "invoice": {"month": charge["BillingPeriodStart"][:7].replace("-", "")},
                "cost_type": "tax" if kind == "tax" else "regular",
            }
            if charge["PublisherName"] != charge["InvoiceIssuerName"]:
                record["seller_name"] = charge["PublisherName"]
            handle.write(json.dumps(record) + "\n")
