"""Every Azure cost-details layout Microsoft has shipped, and Oracle Cloud's reports, loaded as a
user loads them: one file in `inbox/billing/` of a fresh `costledger init` workspace, then
`costledger run`. Each fixture under tests/fixtures/billing/ loads with the exact totals worked
out below, and the same charge written in every Azure layout lands in the same FOCUS columns
with the same values. tests/fixtures/README.md says where each header list comes from."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import warehouse
from pipeline.cli import app
from pipeline.columns import FOCUS_COLUMNS
from pipeline.ingest.billing import azure
from tests.conftest import without_progress

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
D = Decimal

# fixture -> (detected format, rows, {(billing period, currency): (billed, effective)}), by hand:
EXPECTED: dict[str, tuple[str, int, dict[tuple[str, str], tuple[Decimal, Decimal]]]] = {
    # usage 4.608 + disk 0.73013698630137 + reservation-covered usage 0 (actual: the purchase
    # carries it) + reservation purchase 112.42 + its refund -56.21 + marketplace 12.30 + spot
    # 0.8832 = 74.73133698630137 billed; the purchase and the refund are effective 0:
    # 74.73133698630137 - 112.42 + 56.21 = 18.52133698630137
    "azure-ea-actual/ea-actual-2024-08-01.csv": (
        "azure-ea-actual",
        7,
        {
            ("2026-03", "USD"): (D("74.73133698630137"), D("18.52133698630137")),
        },
    ),
    # billed: only the on-demand rows, 4.608 + 0.0512 = 4.6592; effective: every row, the two
    # 22-decimal costs rounded half to even to 18 (3.7472602739726027397260 -> ...740,
    # 1.2490867579908675799087 -> ...580): 4.608 + 3.747260273972602740 + 1.249086757990867580
    # + 2.1504 + 0.3125 + 0.0512 = 12.118447031963470320
    "azure-ea-amortized/ea-amortized-2024-08-01.csv": (
        "azure-ea-amortized",
        6,
        {
            ("2026-03", "USD"): (D("4.6592"), D("12.118447031963470320")),
        },
    ),
    # 4.608 + savings-plan purchase 730.00 + covered usage 0 + marketplace refund -15.00 + support
    # plan 29.00 + rounding adjustment 0.000000123 = 748.608000123 billed; effective without the
    # commitment purchase: 748.608000123 - 730 = 18.608000123
    "azure-mca-actual/mca-actual-2023-12-01-preview.csv": (
        "azure-mca-actual",
        6,
        {
            ("2026-03", "USD"): (D("748.608000123"), D("18.608000123")),
        },
    ),
    # billed in EUR (costInBillingCurrency; costInPricingCurrency and costInUsd are USD and not
    # read): 4.608 + storage 0.0000421917808219178082 rounded to 0.000042191780821918 =
    # 4.608042191780821918; effective adds savings-plan usage 11.9808 and unused 1.0137:
    # 17.602542191780821918
    "azure-mca-amortized/mca-amortized-2023-12-01-preview.csv": (
        "azure-mca-amortized",
        4,
        {
            ("2026-03", "EUR"): (D("4.608042191780821918"), D("17.602542191780821918")),
        },
    ),
    # no billing period column: the month of UsageDateTime. March 4.608 + 0.087 + 0.075 = 4.77;
    # April (2026-04-01) 2.208
    "azure-payg-usage-details-legacy/payg-usage-details-2019-11-01.csv": (
        "azure-legacy-usage",
        4,
        {
            ("2026-03", "USD"): (D("4.77"), D("4.77")),
            ("2026-04", "USD"): (D("2.208"), D("2.208")),
        },
    ),
    # empty billingPeriodStartDate on every row: the month of the charge date. March 4.608 + 2.40
    # + 0.4839 = 7.4919; April 1.92
    "azure-csp-partner-camelcase/csp-subscription-2023-12-01-preview.csv": (
        "azure-partner-unknown",
        4,
        {
            ("2026-03", "USD"): (D("7.4919"), D("7.4919")),
            ("2026-04", "USD"): (D("1.92"), D("1.92")),
        },
    ),
    # 4.608 + 0.075 + 3.4263 = 8.1093, in euros
    "azure-portal-localised-de/portal-download-de.csv": (
        "azure-legacy-usage",
        3,
        {
            ("2026-03", "EUR"): (D("8.1093"), D("8.1093")),
        },
    ),
    # 4.608 + 0.075 = 4.683
    "azure-portal-localised-mixed/portal-download-de-mixed.csv": (
        "azure-legacy-usage",
        2,
        {
            ("2026-03", "USD"): (D("4.683"), D("4.683")),
        },
    ),
    # 4.608 + 9.216 + 3.69012 = 17.51412
    "azure-with-bom-and-braceless-tags/ea-portal-download-bom-crlf.csv": (
        "azure-ea-unknown",
        3,
        {
            ("2026-03", "USD"): (D("17.51412"), D("17.51412")),
        },
    ),
    # 0.272 + 0.01536 + 0.00107392473 - 0.272 (an adjustment reversing the first) = 0.01643392473
    "oci-focus/oci-focus-report.csv": (
        "oci-focus-1.0",
        4,
        {
            ("2026-03", "USD"): (D("0.01643392473"), D("0.01643392473")),
        },
    ),
}
CURRENCY = {
    "azure-mca-amortized/mca-amortized-2023-12-01-preview.csv": "EUR",
    "azure-portal-localised-de/portal-download-de.csv": "EUR",
}


def _load(root: Path, fixture: str) -> tuple[Path, str]:
    """A fresh workspace with the fixture as its only file, after `costledger run`."""
    ws = root / fixture.split("/")[0]
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    if fixture in CURRENCY:  # one currency, not the default USD: report in it (no FX file needed)
        config = ws / "costledger.toml"
        text = config.read_text(encoding="utf-8")
        assert 'reporting_currency = "USD"' in text
        currency = f'reporting_currency = "{CURRENCY[fixture]}"'
        config.write_text(text.replace('reporting_currency = "USD"', currency), encoding="utf-8")
    target = ws / "inbox" / "billing" / "export.csv"  # the name says nothing: the content decides
    shutil.copyfile(FIXTURES / "billing" / fixture, target)
    result = runner.invoke(app, ["run", "-w", str(ws)])
    output = "\n".join(without_progress(result.output))
    return ws, output if result.exit_code == 0 else f"exit {result.exit_code}: {output}"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    root = tmp_path_factory.mktemp("layouts")
    mp = pytest.MonkeyPatch()
    mp.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")
    yield {fixture: _load(root, fixture) for fixture in EXPECTED}
    mp.undo()


def test_every_fixture_is_listed() -> None:
    found = {p.relative_to(FIXTURES / "billing").as_posix() for p in (FIXTURES / "billing").rglob("*.csv")}
    assert found == set(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("fixture", list(EXPECTED))
def test_fixture_loads_through_the_cli_with_exact_totals(loaded, fixture: str) -> None:
    ws, output = loaded[fixture]
    assert output.startswith("published: "), output
    fmt, rows, totals = EXPECTED[fixture]
    with warehouse.connect(ws / "warehouse.duckdb") as con:
        load = con.execute(
            "select detected_format, rows_in, rows_loaded, rows_quarantined, status from meta.loads"
        ).fetchall()
        staged = {
            (p, c): (b, e)
            for p, c, b, e in con.execute(
                "select x_BillingPeriod, BillingCurrency, sum(BilledCost), sum(EffectiveCost) "
                "from staging.billing group by all"
            ).fetchall()
        }
        ledger = {
            (p, c): (b, e)
            for p, c, b, e in con.execute(
                "select billing_period, source_currency, sum(source_amount), sum(source_effective_amount) "
                "from ledger.cost_ledger where source = 'billing' group by all"
            ).fetchall()
        }
    assert load == [(fmt, rows, rows, 0, "loaded")]
    assert staged == totals
    assert ledger == totals


# the same charge in every Azure layout: 24 hours of a D4s v5 on 14 March 2026, 4.608
SUBSCRIPTION = "3f2c7a4e-9b1d-4c55-8e2f-0d6a1b7c9e31"
METER = "d3a5c2f1-6b1e-4e2a-9c77-1f0e5b2a9d44"
COMMON = (
    "ResourceId like '%/virtualMachines/ranker-vm-01' and ChargePeriodStart = '2026-03-14' "
    "and ServiceName = 'Virtual Machines'"
)
# FOCUS columns a layout fills for that charge beyond the ones all fill: MCA has an invoice id;
# the legacy usage details have no list price (ListCost), billing account name or subscription name
EXTRA = {
    "azure-mca-actual": {"InvoiceId"},
    "azure-mca-amortized": {"InvoiceId"},
}
MISSING = {
    "azure-payg-usage-details-legacy": {"ListCost", "BillingAccountName", "SubAccountName"},
    "azure-portal-localised-de": {"ListCost", "BillingAccountName", "SubAccountName"},
    "azure-portal-localised-mixed": {"ListCost", "BillingAccountName", "SubAccountName"},
}
CORE = {
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeDescription",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "Tags",
}


@pytest.mark.slow
def test_every_layout_maps_the_same_charge_to_the_same_focus_columns(loaded) -> None:
    seen = {}
    for fixture, (ws, output) in loaded.items():
        if not fixture.startswith("azure-"):
            continue
        assert output.startswith("published: "), output
        with warehouse.connect(ws / "warehouse.duckdb") as con:
            rows = con.execute(f"select {', '.join(FOCUS_COLUMNS)} from staging.billing where {COMMON}").fetchall()
        assert len(rows) == 1, fixture
        row = dict(zip(FOCUS_COLUMNS, rows[0], strict=True))
        layout = fixture.split("/")[0]
        filled = {name for name, value in row.items() if value is not None}
        assert filled == (CORE | EXTRA.get(layout, set())) - MISSING.get(layout, set()), layout
        seen[layout] = row
    assert len(seen) == 9
    for layout, row in seen.items():
        # 24 h x 0.192 = 4.608, billed and effective alike (on demand), a usage charge on 14 March,
        # in billing period March 2026, on the same subscription and resource
        assert row["BilledCost"] == row["EffectiveCost"] == D("4.608"), layout
        assert row["ChargeCategory"] == "Usage" and row["ChargeFrequency"] == "Usage-Based", layout
        charge = (str(row["ChargePeriodStart"]), str(row["ChargePeriodEnd"]))
        assert charge == ("2026-03-14 00:00:00", "2026-03-15 00:00:00"), layout
        period = (str(row["BillingPeriodStart"]), str(row["BillingPeriodEnd"]))
        assert period == ("2026-03-01 00:00:00", "2026-04-01 00:00:00"), layout
        assert row["SubAccountId"] == SUBSCRIPTION and row["ResourceName"] == "ranker-vm-01", layout
        assert row["ServiceName"] == "Virtual Machines" and row["ConsumedQuantity"] == D("24"), layout
        assert row["Tags"] == '{"env": "prod", "model": "search-ranker"}', layout  # braces or not, one JSON text
        assert row["ProviderName"] == "Microsoft" and row["SkuPriceId"] == METER, layout
    # the invoice scope: an EA enrollment, an MCA billing profile; the subscription when the
    # layout names no billing account (legacy usage details, CSP subscription-scope exports)
    assert {layout: row["BillingAccountId"] for layout, row in seen.items()} == {
        "azure-ea-actual": "71234567",
        "azure-ea-amortized": "71234567",
        "azure-with-bom-and-braceless-tags": "71234567",
        "azure-mca-actual": "QWER-TY12-BG7-TGB",
        "azure-mca-amortized": "QWER-TY12-BG7-TGB",
        "azure-payg-usage-details-legacy": SUBSCRIPTION,
        "azure-csp-partner-camelcase": SUBSCRIPTION,
        "azure-portal-localised-de": SUBSCRIPTION,
        "azure-portal-localised-mixed": SUBSCRIPTION,
    }
    # partnerName: the CSP partner issues the invoice
    assert seen["azure-csp-partner-camelcase"]["InvoiceIssuerName"] == "Contoso Cloud Partner GmbH"
    assert seen["azure-mca-amortized"]["BillingCurrency"] == "EUR"  # billingCurrency, not pricingCurrency (USD)


@pytest.mark.slow
def test_load_messages_say_how_billing_periods_were_dated(loaded) -> None:
    def message(fixture: str) -> str:
        ws, _ = loaded[fixture]
        with warehouse.connect(ws / "warehouse.duckdb") as con:
            return con.execute("select message from meta.loads").fetchone()[0]

    assert message("azure-csp-partner-camelcase/csp-subscription-2023-12-01-preview.csv") == (
        "4 rows loaded; 4 row(s) without BillingPeriodStartDate: billing period taken as the calendar month "
        "of the charge date (Enterprise, Customer and Partner Agreements invoice by calendar month)"
    )
    legacy = message("azure-portal-localised-de/portal-download-de.csv")
    assert "the file has no billing period column (legacy usage details)" in legacy
    # 3.7472602739726027397260 - 3.747260273972602740 = -0.0000000000000000002740 and
    # 1.2490867579908675799087 - 1.249086757990867580 = -0.0000000000000000000913: -0.0000000000000000003653
    rounded = message("azure-ea-amortized/ea-amortized-2024-08-01.csv")
    assert "2 cost value(s) had more than 18 decimals and were rounded half to even" in rounded
    assert "(exact total residual -0.0000000000000000003653;" in rounded


def test_the_header_map_reads_every_spelling() -> None:
    key = azure.header_key
    assert key("\ufeffBillingAccountId") == key("billingAccountId") == "billingaccountid"  # BOM, case
    assert key("Kategorie der Verbrauchseinheit (MeterCategory)") == "metercategory"  # localised: the English name
    assert key("Zusätzliche Informationen (AdditionalInfo)") == "additionalinfo"
    assert key("Meter Sub-Category") == "metersubcategory" and key("Instance ID") == "instanceid"  # the retired EA CSV
    found = azure.resolve(
        ["Date", "Cost", "CostInBillingCurrency", "costInUsd", "SubscriptionGuid", "ChargeType", "Currency"]
    )
    # CostInBillingCurrency is preferred to Cost; costInUsd (another currency) is never the cost
    assert found["cost"] == "CostInBillingCurrency" and found["subscriptionid"] == "SubscriptionGuid"
    assert found["billingcurrency"] == "Currency"
    assert azure.layout(["SubscriptionGuid", "UsageDateTime", "PreTaxCost", "MeterCategory", "Currency"]) == "legacy"
    assert azure.layout(["date", "costInBillingCurrency", "SubscriptionId", "chargeType", "partnerName"]) == "partner"
    assert azure.layout(["date", "costInBillingCurrency", "SubscriptionId", "chargeType", "invoiceId"]) == "mca"
    assert azure.layout(["Date", "Cost", "Currency"]) is None  # no subscription: not Azure cost details


def _run_one(tmp_path: Path, text: str, *, bom: bool = False) -> tuple[int, str, Path]:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    (ws / "inbox" / "billing" / "azure.csv").write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    result = runner.invoke(app, ["run", "-w", str(ws)])
    return result.exit_code, result.output, ws


def test_a_pay_as_you_go_row_without_billing_period_is_quarantined(tmp_path: Path) -> None:
    # BillingProfileId = SubscriptionId marks pay-as-you-go: its invoice period starts on the
    # subscription's own day, so row 2's period cannot be the calendar month; row 1 loads (1.25)
    header = (
        "BillingAccountId,BillingProfileId,SubscriptionId,Date,ChargeType,CostInBillingCurrency,"
        "BillingCurrencyCode,BillingPeriodStartDate,BillingPeriodEndDate,MeterCategory"
    )
    sub = "0b8c2d4e-1f3a-4b5c-9d6e-7f8a9b0c1d2e"
    rows = [
        f"77,{sub},{sub},03/14/2026,Usage,1.25,USD,03/09/2026,04/08/2026,Storage",
        f"77,{sub},{sub},03/15/2026,Usage,2.50,USD,,,Storage",
    ]
    text = "\n".join([header, *rows]) + "\n"
    code, output, ws = _run_one(tmp_path, text)
    assert code == 0, output
    with warehouse.connect(ws / "warehouse.duckdb") as con:
        assert con.execute("select rows_in, rows_loaded, rows_quarantined from meta.loads").fetchone() == (2, 1, 1)
        row, column, reason = con.execute('select row_number, "column", reason from meta.quarantine').fetchone()
        total = con.execute("select sum(BilledCost) from staging.billing").fetchone()[0]
    assert (row, column) == (2, "billingperiodstartdate")
    assert reason.startswith("required value is missing: a pay-as-you-go billing period starts on the subscription's")
    assert total == D("1.25")


def test_the_legacy_ea_layout_without_a_currency_is_refused_naming_it(tmp_path: Path) -> None:
    # usage-details-ea-2019-10-01 has no currency column: its amounts are in an unknown currency
    header = (
        "DepartmentName,AccountName,SubscriptionGuid,SubscriptionName,UsageDateTime,MeterCategory,UsageQuantity,"
        "ResourceRate,PreTaxCost,InstanceId"
    )
    row = "ML,ml,0b8c2d4e-1f3a-4b5c-9d6e-7f8a9b0c1d2e,sub,2026-03-14,Storage,1,1.5,1.5,/x"
    code, output, _ = _run_one(tmp_path, f"{header}\n{row}\n")
    assert code == 2
    assert "azure.csv" in output and "no currency column (BillingCurrency, BillingCurrencyCode or Currency)" in output


def test_two_headers_for_one_field_are_refused(tmp_path: Path) -> None:
    header = "Date,ChargeType,SubscriptionId,Cost,cost,BillingCurrency,BillingPeriodStartDate"
    code, output, _ = _run_one(tmp_path, f"{header}\n03/14/2026,Usage,s,1,2,USD,03/01/2026\n")
    # refused by the header check every reader shares, before Azure's field map
    assert code == 2
    assert (
        "row 0, column 'cost': the header has 'Cost' and 'cost' (columns 4 and 5)" in output and "ambiguous" in output
    )


def test_an_oracle_native_cost_report_is_refused_naming_the_focus_report(tmp_path: Path) -> None:
    text = (FIXTURES / "billing-refused" / "oci-native-cost-report.csv").read_text(encoding="utf-8")
    code, output, ws = _run_one(tmp_path, text)
    assert code == 2
    assert "this is an Oracle Cloud cost report" in output and "load OCI's FOCUS report instead" in output
    assert "Traceback" not in output
    with warehouse.connect(ws / "warehouse.duckdb") as con:
        assert con.execute("select status from meta.loads").fetchone() == ("rejected",)
