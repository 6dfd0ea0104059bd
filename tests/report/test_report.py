"""The monthly report: self-contained HTML, Markdown summary and the exact model x category CSV."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline import warehouse
from pipeline.columns import BUCKETS, CATEGORIES, LEDGER_COLUMNS
from pipeline.errors import CostLedgerError
from pipeline.report import format_money, write_report

MONTH = "2025-03"
EVIL = "<script>alert(1)</script>"
CHECKSUM = "ab12cd34ef56" + "0" * 52


def ledger_row(day: str, model: str, category: str, effective: str, **extra: object) -> tuple:
    """All ledger columns for one hand-made row; billed = effective unless given."""
    row: dict[str, object] = {
        "charge_date": date.fromisoformat(day),
        "billing_period": day[:7],
        "model_id": model,
        "category": category,
        "subcategory": "misc",
        "billed_cost": Decimal(effective),
        "effective_cost": Decimal(effective),
        "currency": "USD",
        "source_amount": Decimal(effective),
        "source_effective_amount": Decimal(effective),
        "source_currency": "USD",
        "fx_rate": Decimal(1),
        "quantity": None,
        "quantity_unit": None,
        "source": "charges",
        "provider": "acme",
        "allocation_method": "direct",
        "allocation_share": Decimal(1),
        "unallocated_reason": None,
        "lineage_id": f"{day}|{model}|{category}|{effective}",
        "source_ref": "test:1",
        "run_id": "run-test",
        "cost_basis": "cash",
        "phase": "inference",
    }
    row.update(extra)
    row.setdefault("economic_cost", row["effective_cost"])
    return tuple(row[c] for c in LEDGER_COLUMNS)


LEDGER_ROWS = [
    # The one billing row: reconciled against the staging.billing row below.
    ledger_row("2025-03-01", "search-ranker", "hardware", "10.50", source="billing", provider="aws"),
    ledger_row("2025-03-15", "search-ranker", "hardware", "2.25"),
    ledger_row("2025-03-02", "search-ranker", "software", "1.000000000000000001"),
    ledger_row("2025-03-31", "search-ranker", "labor", "5.00", billed_cost=Decimal("4.00")),
    ledger_row("2025-03-05", EVIL, "data", "3.333333333333333333"),
    ledger_row("2025-03-05", "rec-llm", "hardware", "20.00"),
    ledger_row("2025-03-06", "rec-llm", "hardware", "-1.00", subcategory="credit"),
    # cost of delay: opportunity, billed and effective 0, 7.00 of economic cost only
    ledger_row(
        "2025-03-20",
        "rec-llm",
        "time",
        "0",
        allocation_method="delay",
        source="milestones",
        source_effective_amount=Decimal("7.00"),
        cost_basis="opportunity",
        phase="shared",
        economic_cost=Decimal("7.00"),
    ),
    # a fine-tuning run of the serving model: its cost, not its serving unit cost
    ledger_row("2025-03-07", "rec-llm", "hardware", "6.00", phase="fine_tuning"),
    ledger_row("2025-03-03", "__idle__", "hardware", "4.00", allocation_method="gpu_time"),
    ledger_row(
        "2025-03-04",
        "__unallocated__",
        "operational",
        "0.50",
        allocation_method="unallocated",
        unallocated_reason="no_matching_rule",
    ),
    # Outside March: the previous month (month over month) and the next one (excluded).
    ledger_row("2025-02-28", "search-ranker", "hardware", "8.00"),
    ledger_row("2025-04-01", "search-ranker", "hardware", "100.00"),
]

# Hand-worked effective cost of March 2025 (ledger rows above):
# search-ranker  hardware 10.50 + 2.25 = 12.75; software 1.000000000000000001; labor 5.00
#                total 18.750000000000000001
# <script>...    data 3.333333333333333333
# rec-llm        hardware 20.00 - 1.00 = 19.00 inference + 6.00 fine-tuning = 25.00; time 0 (cash)
#                total 25.00 (the 7.00 cost of delay is opportunity: economic cost only)
# __idle__       hardware 4.00;  __unallocated__ operational 0.50;  __shared__ 0
# month total    18.750000000000000001 + 3.333333333333333333 + 25 + 4 + 0.5 = 51.583333333333333334
# billed total   the same minus 1.00 on labor (5.00 effective, 4.00 billed) = 50.583333333333333334
# vs February    8.00: change +43.583333333333333334, shown +43.58
# economic       51.583333333333333334 + 7.00 cost of delay = 58.583333333333333334, shown 58.58


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A warehouse with the hand-made ledger, usage, optimisations, billing and meta rows."""
    con = warehouse.connect(tmp_path_factory.mktemp("wh") / "w.duckdb")
    marks = ", ".join("?" for _ in LEDGER_COLUMNS)
    columns = ", ".join(LEDGER_COLUMNS)
    con.executemany(f"insert into ledger.cost_ledger ({columns}) values ({marks})", LEDGER_ROWS)
    con.executemany(
        "insert into staging.usage values ('u', ?, ?, ?, ?, ?, ?)",
        [
            (1, date(2025, 3, 1), "search-ranker", 1000, None, None),
            (2, date(2025, 3, 2), "search-ranker", 1500, None, None),
            (3, date(2025, 3, 5), "rec-llm", 400, 600000, 400000),
            (4, date(2025, 4, 1), "rec-llm", 999, 1, 1),
        ],
    )
    con.executemany(
        "insert into staging.optimizations (load_id, row_number, action_date, model_id, action, description) values "
        "('o', ?, ?, ?, ?, ?)",
        [
            (1, date(2025, 3, 10), "rec-llm", "quantization", "int8"),
            (2, date(2025, 4, 2), "rec-llm", "spot_in_april", None),
        ],
    )
    con.execute(
        """insert into staging.billing (load_id, row_number, BillingPeriodStart, ChargePeriodStart,
               ChargePeriodEnd, ChargeCategory, BilledCost, EffectiveCost, BillingCurrency,
               ProviderName, x_BillingPeriod, x_SourceFormat)
           values ('b', 1, ?, ?, ?, 'Usage', ?, ?, 'USD', 'aws', ?, 'focus-1.2')""",
        [date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 2), Decimal("10.50"), Decimal("10.50"), MONTH],
    )
    con.executemany(
        "insert into meta.check_results values ('run-test', ?, 'ledger', ?, ?, ?, ?, ?, ?)",
        [
            (MONTH, "expect_column_values_to_not_be_null", "model_id", "fail", True, None, date(2025, 4, 1)),
            (MONTH, "expect_labor_k_anonymous", "model_id", "warn", False, "2 people", date(2025, 4, 1)),
        ],
    )
    con.execute(
        """insert into meta.loads (load_id, source, path, checksum, rows_in, rows_loaded,
               rows_quarantined, status, periods, loaded_at)
           values ('usage-ab12', 'usage', 'usage/march.csv', ?, 6, 4, 2, 'loaded', ?, ?)""",
        [CHECKSUM, [MONTH], date(2025, 4, 1)],
    )
    con.executemany(
        "insert into meta.quarantine values ('usage-ab12', 'usage/march.csv', ?, 'requests', ?, ?)",
        [(5, "-3", "a count >= 0"), (6, "x", "an integer")],
    )
    return con


@pytest.fixture(scope="module")
def report(con: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The March report's folder."""
    out = tmp_path_factory.mktemp("report")
    assert write_report(con, month=MONTH, out_dir=out) == out / "index.html"
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sql_cell(con: duckdb.DuckDBPyConnection, model: str, category: str | None) -> Decimal:
    """The expected cell: a SQL sum over ledger.cost_ledger for March (all categories if None)."""
    return con.execute(
        """select coalesce(sum(effective_cost), 0) from ledger.cost_ledger
           where model_id = ? and (category = ? or ? is null)
             and charge_date >= ? and charge_date < ?""",
        [model, category, category, date(2025, 3, 1), date(2025, 4, 1)],
    ).fetchone()[0]


def test_writes_the_three_files(report: Path) -> None:
    for name in ("index.html", "summary.md", "model_category.csv"):
        assert (report / name).stat().st_size > 0


def test_html_is_self_contained_with_two_charts(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert "<link" not in html and "@import" not in html and "url(http" not in html
    assert html.count("<svg") >= 2


def test_model_name_is_escaped(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = (report / "summary.md").read_text(encoding="utf-8")
    # In the Markdown it sits only inside a code span, where it is shown, not run.
    # (twice: the model x category table and the cost by phase table)
    assert md.count(EVIL) == md.count(f"`{EVIL}`") == 2


def test_csv_cells_equal_sql_sums(report: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = read_csv(report / "model_category.csv")
    assert [r["model_id"] for r in rows] == ["rec-llm", "search-ranker", EVIL, *BUCKETS]
    for row in rows:
        for category in CATEGORIES:
            assert Decimal(row[category]) == sql_cell(con, row["model_id"], category)
        assert Decimal(row["total"]) == sql_cell(con, row["model_id"], None)
        assert row["currency"] == "USD"


def test_csv_cells_worked_by_hand(report: Path) -> None:
    rows = {r["model_id"]: r for r in read_csv(report / "model_category.csv")}
    # search: hardware 10.50 + 2.25 = 12.75
    assert Decimal(rows["search-ranker"]["hardware"]) == Decimal("12.75")
    # search: software 1.000000000000000001, kept to the last of its 18 decimals
    assert rows["search-ranker"]["software"] == "1.000000000000000001"
    # search: 12.75 + 1.000000000000000001 + 5.00 = 18.750000000000000001
    assert Decimal(rows["search-ranker"]["total"]) == Decimal("18.750000000000000001")
    # rec-llm: hardware 20.00 - 1.00 credit + 6.00 fine-tuning = 25.00; April's 100.00 excluded
    assert Decimal(rows["rec-llm"]["hardware"]) == Decimal("25.00")
    # the cost of delay is opportunity: no cash cost in the time category
    assert Decimal(rows["rec-llm"]["time"]) == 0
    # __shared__ has no rows: 0, written in full
    assert rows["__shared__"]["total"] == "0.000000000000000000"


def test_headline_and_month_over_month(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    md = (report / "summary.md").read_text(encoding="utf-8")
    # effective 51.583333333333333334 -> 51.58; billed 50.583333333333333334 -> 50.58
    # change vs February 8.00: +43.583333333333333334 -> +43.58 (cash: the 7.00 delay is not in it)
    for text in (html, md):
        assert "51.58" in text and "50.58" in text and "+43.58 USD" in text
        # economic cost beside it, labelled: 51.583333333333333334 + 7.00 = 58.58, of which 7.00 delay
        assert "Economic cost" in text and "58.58 USD" in text and "7.00 USD cost of delay" in text
        assert "Incomplete month" not in text


def test_cost_by_phase_per_model(report: Path) -> None:
    md = (report / "summary.md").read_text(encoding="utf-8")
    html = (report / "index.html").read_text(encoding="utf-8")
    # rec-llm: fine-tuning 6.00, inference 19.00 (20.00 - 1.00), total 25.00; phases in their
    # fixed order (fine-tuning before inference); the opportunity row (shared) is not cash
    assert "| `rec-llm` | 6.00 | 19.00 | 25.00 |" in md
    assert "| Model | fine-tuning | inference | Total |" in md
    assert 'id="model-phase"' in html


def test_unit_costs(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    # search-ranker: 18.750000000000000001 x 1000 / (1000 + 1500) = 7.5000 per 1k requests
    assert "7.5000" in html
    # rec-llm serves on its inference cost only: 19.00 (not the 6.00 fine-tuning, not the 7.00 delay)
    # 19.00 x 1000 / 400 = 47.5000 per 1k; 19.00 x 1e6 / 1,000,000 tokens = 19.0000
    assert "47.5000" in html and "19.0000" in html
    assert "65.0000" not in html and "62.5000" not in html  # (26.00 or 25.00 per 400 requests)


def test_sections_read_meta_tables(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "quantization" in html and "spot_in_april" not in html  # events of March only
    assert "exact" in html and "MISMATCH" not in html  # aws 10.50 = 10.50
    assert "1 passed" in html and "1 failed" in html and "expect_labor_k_anonymous" in html
    assert CHECKSUM[:12] in html and CHECKSUM not in html
    assert "no_matching_rule" in html
    # quarantined rows of this month's inputs: 2
    assert "<strong>2</strong>" in html


def test_report_is_deterministic(report: Path, con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    write_report(con, month=MONTH, out_dir=tmp_path)
    for name in ("index.html", "summary.md", "model_category.csv"):
        assert (tmp_path / name).read_bytes() == (report / name).read_bytes()


def test_empty_month_says_there_is_no_cost(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    index = write_report(con, month="2024-07", out_dir=tmp_path / "r")
    html = index.read_text(encoding="utf-8")
    assert "No cost recorded" in html and "the total is 0" in html
    assert "No cost recorded" in (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert len(read_csv(tmp_path / "r" / "model_category.csv")) == 0
    assert "http://" not in html and "https://" not in html


def test_bad_month_is_a_user_error(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(CostLedgerError, match="expected YYYY-MM"):
        write_report(con, month="2025-13", out_dir=tmp_path)


def test_two_currencies_in_a_month_is_an_error(tmp_path: Path) -> None:
    con = warehouse.connect(tmp_path / "w.duckdb")
    marks = ", ".join("?" for _ in LEDGER_COLUMNS)
    con.executemany(
        f"insert into ledger.cost_ledger values ({marks})",
        [ledger_row("2025-03-01", "m", "data", "1"), ledger_row("2025-03-02", "m", "data", "1", currency="EUR")],
    )
    with pytest.raises(CostLedgerError, match="EUR, USD"):
        write_report(con, month=MONTH, out_dir=tmp_path / "r")


def test_many_models_and_previous_month_in_another_currency(tmp_path: Path) -> None:
    con = warehouse.connect(tmp_path / "w.duckdb")
    marks = ", ".join("?" for _ in LEDGER_COLUMNS)
    # 25 models with 1.00 of hardware each on 2025-03-0{1..25}; February in EUR.
    rows = [ledger_row(f"2025-03-{i:02d}", f"model-{i:02d}", "hardware", "1.00") for i in range(1, 26)]
    rows.append(ledger_row("2025-02-10", "model-01", "hardware", "1.00", currency="EUR"))
    con.executemany(f"insert into ledger.cost_ledger values ({marks})", rows)
    index = write_report(con, month=MONTH, out_dir=tmp_path / "r")
    html = index.read_text(encoding="utf-8")
    # bar chart: 19 bars of their own + one for the other 25 + 3 buckets - 19 = 9
    assert "(9 other models)" in html
    # trend chart: 8 lines + one for the other 17
    assert "(17 other models)" in html
    assert "not comparable" in html
    # every model and bucket still has its row: 25 + 3
    assert len(read_csv(tmp_path / "r" / "model_category.csv")) == 28


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.125", "0.12"),  # half-even: down to the even 2
        ("0.135", "0.14"),  # half-even: up to the even 4
        ("1234567.005", "1,234,567.00"),
        ("-1234.5", "-1,234.50"),
        ("-0.001", "0.00"),  # no negative zero
        ("0E-18", "0.00"),
        ("99999999999999999999.999999999999999999", "100,000,000,000,000,000,000.00"),
    ],
)
def test_format_money(value: str, shown: str) -> None:
    assert format_money(Decimal(value)) == shown


def test_format_money_other_places() -> None:
    # 7.50005 to 4 places, half-even: 7.5000 (the 5 rounds to the even 0)
    assert format_money(Decimal("7.50005"), 4) == "7.5000"


def test_a_month_of_hr_and_milestones_only_is_flagged_incomplete(tmp_path: Path) -> None:
    con = warehouse.connect(tmp_path / "w.duckdb")
    marks = ", ".join("?" for _ in LEDGER_COLUMNS)
    # March has labor (5.00) and a cost of delay (3.00, opportunity) but no bill, telemetry or
    # charge: cash 5.00, economic 8.00, and the month is flagged incomplete
    con.executemany(
        f"insert into ledger.cost_ledger values ({marks})",
        [
            ledger_row("2025-03-02", "m", "labor", "5.00", source="labor"),
            ledger_row(
                "2025-03-03",
                "m",
                "time",
                "0",
                source="milestones",
                cost_basis="opportunity",
                phase="shared",
                economic_cost=Decimal("3.00"),
            ),
        ],
    )
    index = write_report(con, month=MONTH, out_dir=tmp_path / "r")
    md = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    for text in (index.read_text(encoding="utf-8"), md):
        assert "Incomplete month: its only inputs are labor, milestones" in text
        assert "8.00 USD" in text and "3.00 USD cost of delay" in text
    # one charges row (an invoice) makes it a month with cost data: no flag
    con.execute(f"insert into ledger.cost_ledger values ({marks})", ledger_row("2025-03-04", "m", "data", "1.00"))
    write_report(con, month=MONTH, out_dir=tmp_path / "r2")
    assert "Incomplete month" not in (tmp_path / "r2" / "summary.md").read_text(encoding="utf-8")
