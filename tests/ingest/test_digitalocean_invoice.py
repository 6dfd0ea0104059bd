"""A DigitalOcean invoice CSV loads as FOCUS 1.2 billing rows: the adapter is one module of
pipeline/ingest/billing, found by the registry with nothing else changed. The invoice below has
the columns of DigitalOcean's invoice CSV (API `GET /v2/customers/my/invoices/{uuid}/csv`,
control panel "Download as CSV"): amounts under a column named for the currency, written with
their symbol, and charge periods with a UTC offset."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.ingest import billing

INVOICE = """\
product,group_description,description,hours,start,end,USD,project_name,category
Droplets,,web-1 (s-2vcpu-4gb),744,2026-03-01 00:00:00 +0000,2026-04-01 00:00:00 +0000,$24.00,search,iaas
Kubernetes Clusters,gpu-pool,node-1 (h100),120,2026-03-10 00:00:00 +0000,2026-03-15 00:30:00 +0000,"$1,016.31",rec,iaas
Floating IPs,,Unused Floating IP - 203.0.113.7,100,2026-03-01 00:00:00 +0000,2026-03-05 04:00:00 +0000,$0.40,,iaas
Credits,,Promotional credit,,2026-03-01 00:00:00 +0000,2026-03-31 23:59:59 +0000,-$10.00,,iaas
Taxes,,STATE SALES TAX (6.25%),,2026-03-01 00:00:00 +0000,2026-03-31 23:59:59 +0000,$65.05,,iaas
"""


def _read(tmp_path: Path, text: str) -> billing.Parsed:
    path = tmp_path / "invoice.csv"
    path.write_text(text, encoding="utf-8")
    return billing.read(path, path.read_bytes())


def test_the_invoice_loads_as_focus_rows_with_exact_amounts(tmp_path: Path) -> None:
    parsed = _read(tmp_path, INVOICE)
    assert parsed.format == "digitalocean-invoice"
    assert parsed.rejects.height == 0 and parsed.rows.height == 5
    rows = parsed.rows.to_dicts()
    assert [r["BilledCost"] for r in rows] == [
        Decimal("24.00"),
        Decimal("1016.31"),
        Decimal("0.40"),
        Decimal("-10.00"),
        Decimal("65.05"),
    ]
    assert sum(r["BilledCost"] for r in rows) == Decimal("1095.76")
    assert all(r["EffectiveCost"] == r["BilledCost"] for r in rows)
    assert [r["ChargeCategory"] for r in rows] == ["Usage", "Usage", "Usage", "Credit", "Tax"]
    assert {r["BillingCurrency"] for r in rows} == {"USD"}
    assert {r["ProviderName"] for r in rows} == {"DigitalOcean"}
    assert {r["x_BillingPeriod"] for r in rows} == {"2026-03"}
    gpu = rows[1]
    assert gpu["ServiceName"] == "Kubernetes Clusters"
    assert gpu["ChargeDescription"] == "gpu-pool: node-1 (h100)"
    assert gpu["ResourceName"] == "node-1 (h100)"
    assert gpu["SubAccountName"] == "rec"
    assert (gpu["ConsumedQuantity"], gpu["ConsumedUnit"]) == (Decimal("120"), "Hours")
    assert (gpu["ChargePeriodStart"], gpu["ChargePeriodEnd"]) == (datetime(2026, 3, 10), datetime(2026, 3, 15, 0, 30))
    assert (gpu["BillingPeriodStart"], gpu["BillingPeriodEnd"]) == (datetime(2026, 3, 1), datetime(2026, 4, 1))
    assert rows[4]["ConsumedQuantity"] is None and rows[4]["ResourceName"] is None


def test_an_older_invoice_without_category_loads_too(tmp_path: Path) -> None:
    lines = [line.rsplit(",", 1)[0] for line in INVOICE.splitlines()]
    parsed = _read(tmp_path, "\n".join(lines) + "\n")
    assert parsed.format == "digitalocean-invoice" and parsed.rows.height == 5


def test_a_bad_amount_or_period_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    bad = INVOICE.replace("$0.40", "$zero").replace("2026-03-10 00:00:00 +0000", "tenth of March")
    parsed = _read(tmp_path, bad)
    assert parsed.rows.height == 3
    reasons = {(r["row_number"], r["column"], r["value"]) for r in parsed.rejects.to_dicts()}
    assert reasons == {(2, "start", "tenth of March"), (3, "USD", "zero")}


def test_the_registry_lists_it_among_the_known_formats(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"known formats are .*DigitalOcean invoice \(CSV\)"):
        _read(tmp_path, "Date,Cost,Currency\n2026-01-01,1.00,USD\n")
