"""Builders the tests share: staging-shaped billing and GPU-sample frames for the allocation
functions, and the small workspace configs and HR headers several tests start from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from pipeline.money import MONEY

# a workspace config with two models and nothing else (tests append the sections they need)
TWO_MODELS = """\
reporting_currency = "USD"
[[models]]
id = "m1"
name = "Model one"
[[models]]
id = "m2"
name = "Model two"
"""
# the header of an HR people file (inbox/labor/people.csv)
PEOPLE_HEADER = "person_id,name,role,cost_centre,monthly_salary,benefits,employer_taxes,currency,start_date,end_date\n"

# a usage row of January 2026 on AWS EC2 with nothing to route it: each test adds what it tests
_BILLING_ROW: dict[str, Any] = {
    "load_id": "billing-x",
    "ChargeCategory": "Usage",
    "BillingCurrency": "USD",
    "ProviderName": "AWS",
    "x_BillingPeriod": "2026-01",
    "ServiceCategory": "Compute",
    "ServiceName": "EC2",
    "ChargeDescription": "instance",
    "Tags": None,
    "ResourceName": None,
    "CommitmentDiscountId": None,
    "PublisherName": None,
    "InvoiceIssuerName": None,
    "ConsumedQuantity": Decimal(1),
    "ConsumedUnit": "Hours",
    "SubAccountId": None,
    "BillingAccountId": None,
    "SubAccountName": None,
    "ResourceId": None,
}


def billing_rows(rows: list[dict[str, Any]], **defaults: Any) -> pl.DataFrame:
    """staging.billing-shaped rows (row_number 1, 2, ...): each dict over `defaults` over the usage
    row above; amounts given as text are cast to exact money."""
    base = _BILLING_ROW | defaults
    frame = pl.DataFrame([base | {"row_number": i + 1} | r for i, r in enumerate(rows)], infer_schema_length=None)
    return frame.with_columns(pl.col(pl.Null).cast(pl.String)).with_columns(
        pl.col("BilledCost", "EffectiveCost", "ConsumedQuantity").cast(MONEY)
    )


def gpu_samples(rows: list[tuple[str, str, datetime, str | None, str | None]]) -> pl.DataFrame:
    """GPU utilisation samples (host, gpu, ts, namespace, pod) at a 300 s step."""
    return pl.DataFrame(
        [
            {
                "metric": "DCGM_FI_DEV_GPU_UTIL",
                "hostname": h,
                "gpu": g,
                "ts": ts,
                "namespace": ns,
                "pod": pod,
                "step_seconds": 300,
                "value": Decimal(1),
            }
            for h, g, ts, ns, pod in rows
        ],
        schema_overrides={"ts": pl.Datetime("us"), "step_seconds": pl.Int32, "value": pl.Decimal(38, 9)},
    )
