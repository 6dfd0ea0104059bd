"""pipeline.validate: the Great Expectations suites on a hand-made candidate ledger.

The estate used throughout (billing period 2025-01, every amount exact):

    staging.billing (billed / effective)   candidate rows, source='billing' (billed / effective)
    AWS USD row 1: 100.00 / 90.00           rec-llm-7b   33.34 / 30.00  gpu_time, remainder first
                                            search-rank  33.33 / 30.00  gpu_time
                                            __idle__     33.33 / 30.00  gpu_time
    AWS USD row 2:   0.03 /  0.03           rec-llm-7b    0.03 /  0.03  direct
    GCP EUR row 1:  50.00 / 50.00           __unallocated__ 50.00 / 50.00  (no_matching_rule)

    AWS USD billed    = 100.00 + 0.03 = 100.03 ; candidate 33.34 + 33.33 + 33.33 + 0.03 = 100.03
    AWS USD effective =  90.00 + 0.03 =  90.03 ; candidate 30.00 + 30.00 + 30.00 + 0.03 =  90.03
    GCP EUR billed = effective = 50.00         ; candidate 50.00

    labor (restricted HR database beside the warehouse, as in a workspace): 2025-01 USD HR cost 12500.00,
    variance 500.00 ; candidate labor rows 7000.00 + 5000.00 = 12000.00 ; 12000.00 + 500.00 = 12500.00
    staging.labor cells behind them: rec-llm-7b engineering 3 people, search-rank engineering 4 (k = 3)
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import validate as validate_module
from pipeline import warehouse
from pipeline.check_queries import drop_marts, frame_data, keep_marts
from pipeline.columns import BUCKETS, LEDGER_COLUMNS
from pipeline.errors import ConfigError, ValidationFailed
from pipeline.ingest import labor
from pipeline.validate import CheckResult, load_frame, load_suites, read_suite, validate_candidate

PERIOD = "2025-01"
RUN_ID = "run-test"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def insert_billing(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    currency: str,
    billed: str,
    effective: str,
    row_number: int,
    period: str = PERIOD,
) -> None:
    """One staging.billing row: the NOT NULL columns only."""
    con.execute(
        """
        insert into staging.billing (
            load_id, row_number, BillingPeriodStart, ChargePeriodStart, ChargePeriodEnd,
            ChargeCategory, BilledCost, EffectiveCost, BillingCurrency, ProviderName,
            x_BillingPeriod, x_SourceFormat
        )
        values (?, ?, ?, ?, ?, 'Usage', ?, ?, ?, ?, ?, 'focus-1.2')
        """,
        [
            f"load-{provider}",
            row_number,
            f"{period}-01 00:00:00",
            f"{period}-03 00:00:00",
            f"{period}-04 00:00:00",
            Decimal(billed),
            Decimal(effective),
            currency,
            provider,
            period,
        ],
    )


def restricted_path(con: duckdb.DuckDBPyConnection) -> Path:
    """Where a workspace keeps its restricted HR database: beside the warehouse `con` has open."""
    query = "select path from duckdb_databases() where database_name = current_database()"
    return Path(con.execute(query).fetchall()[0][0]).parent / "restricted" / "hr.duckdb"


def insert_labor_variance(con: duckdb.DuckDBPyConnection, *, hr_cost: str, variance: str, month: str = PERIOD) -> None:
    """One labor_variance row in the restricted HR database beside the warehouse."""
    with labor.open_restricted(restricted_path(con)) as hr:
        hr.execute(
            "insert into labor_variance (month, currency, hr_cost, variance) values (?, 'USD', ?, ?)",
            [month, Decimal(hr_cost), Decimal(variance)],
        )


def insert_labor_cell(con: duckdb.DuckDBPyConnection, model_id: str, headcount: int, *, k: int = 3) -> None:
    """A staging.labor cell of `headcount` people (engineering, 2025-01) and the build's k."""
    con.execute(
        "insert into staging.labor values ('hr-test', ?, ?, 'engineering', 'USD', '2025-Q1', ?, 10, 1000)",
        [PERIOD, model_id, headcount],
    )
    con.execute("delete from meta.labor_build")
    con.execute("insert into meta.labor_build values ('hr-test', '{}', ?, 2, 0, now())", [k])


def insert_candidate(con: duckdb.DuckDBPyConnection, lineage_id: str, **values: Any) -> None:
    """One candidate ledger row: a direct USD billing row of 1.00 unless `values` say otherwise."""
    row: dict[str, Any] = {
        "charge_date": f"{PERIOD}-03",
        "billing_period": PERIOD,
        "model_id": "rec-llm-7b",
        "category": "hardware",
        "subcategory": "gpu_compute",
        "billed_cost": Decimal("1.00"),
        "effective_cost": Decimal("1.00"),
        "currency": "USD",
        "source_amount": Decimal("1.00"),
        "source_effective_amount": Decimal("1.00"),
        "source_currency": "USD",
        "fx_rate": Decimal("1"),
        "quantity": None,
        "quantity_unit": None,
        "source": "billing",
        "provider": "AWS",
        "allocation_method": "direct",
        "allocation_share": Decimal("1"),
        "unallocated_reason": None,
        "lineage_id": lineage_id,
        "source_ref": "load-AWS:1",
        "run_id": RUN_ID,
    }
    row |= {"cost_basis": "cash", "phase": "inference"}
    unknown = set(values) - set(row) - {"economic_cost"}
    assert not unknown, unknown
    row.update(values)
    row.setdefault("economic_cost", row["effective_cost"])
    placeholders = ", ".join("?" for _ in LEDGER_COLUMNS)
    con.execute(
        f"insert into ledger.cost_ledger_candidate ({', '.join(LEDGER_COLUMNS)}) values ({placeholders})",
        [row[c] for c in LEDGER_COLUMNS],
    )


def update_candidate(con: duckdb.DuckDBPyConnection, row: str, /, **values: Any) -> None:
    """Set columns of the candidate row whose lineage_id is `row` (names checked, values bound),
    clearing its stored hash as a build that changes a row in place does (fx_restated.sql)."""
    for column, value in values.items():
        assert column in LEDGER_COLUMNS, column
        con.execute(
            f"update ledger.cost_ledger_candidate set {column} = ?, row_hash = null where lineage_id = ?",
            [value, row],
        )


def money(amount: str, effective: str | None = None) -> dict[str, Decimal]:
    """A billing amount in USD = source currency (fx 1), billed and effective."""
    effective = amount if effective is None else effective
    return {
        "billed_cost": Decimal(amount),
        "effective_cost": Decimal(effective),
        "source_amount": Decimal(amount),
        "source_effective_amount": Decimal(effective),
    }


def build_billing_estate(con: duckdb.DuckDBPyConnection, *, search_rank_billed: str = "33.33") -> None:
    """The billing half of the module docstring's estate."""
    for provider, currency, billed, effective, row_number in (
        ("AWS", "USD", "100.00", "90.00", 1),
        ("AWS", "USD", "0.03", "0.03", 2),
        ("GCP", "EUR", "50.00", "50.00", 1),
    ):
        insert_billing(
            con,
            provider=provider,
            currency=currency,
            billed=billed,
            effective=effective,
            row_number=row_number,
        )
    gpu = {"allocation_method": "gpu_time", "allocation_share": Decimal("0.3333")}
    insert_candidate(con, "aws-1-a", **gpu, **money("33.34", "30.00"))
    insert_candidate(con, "aws-1-b", **gpu, **money(search_rank_billed, "30.00"), model_id="search-rank")
    insert_candidate(con, "aws-1-c", **gpu, **money("33.33", "30.00"), model_id="__idle__")
    insert_candidate(con, "aws-2", **money("0.03"), source_ref="load-AWS:2")
    insert_candidate(
        con,
        "gcp-1",
        **money("50.00"),
        provider="GCP",
        currency="EUR",
        source_currency="EUR",
        model_id="__unallocated__",
        allocation_method="unallocated",
        unallocated_reason="no_matching_rule",
        source_ref="load-GCP:1",
    )


def build_labor_estate(con: duckdb.DuckDBPyConnection, *, search_rank_cost: str = "5000.00") -> None:
    """The labor half: HR cost 12500.00 = 7000.00 + 5000.00 allocated + 500.00 variance."""
    insert_labor_variance(con, hr_cost="12500.00", variance="500.00")
    insert_labor_cell(con, "rec-llm-7b", 3)
    insert_labor_cell(con, "search-rank", 4)
    labor = {
        "category": "labor",
        "subcategory": "engineering",
        "source": "labor",
        "provider": "hr",
        "allocation_method": "labor_share",
        "quantity_unit": "person-days",
    }
    insert_candidate(con, "labor-a", **labor, **money("7000.00"), source_ref="hr:2025-01:a")
    insert_candidate(
        con,
        "labor-b",
        **labor,
        **money(search_rank_cost),
        model_id="search-rank",
        source_ref="hr:2025-01:b",
    )


# the marts suite's two reconciliation rules, failing with the ledger's conservation suites
MARTS_RECONCILIATION = frozenset(
    {
        ("marts", "expect_column_values_to_be_between", "billing_reconciliation_unbalanced"),
        ("marts", "expect_column_values_to_be_between", "invoice_reconciliation_unbalanced"),
    }
)


def expectation_count() -> int:
    # ledger_rows 16 + billing_conservation 2 + labor_conservation 1 + labor_privacy 1 = 20 today; counted from files.
    return sum(len(s.definition["expectations"]) for s in load_suites())


def stored_failures(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str | None]]:
    rows = con.execute(
        """
        select suite, expectation, "column"
        from meta.check_results
        where run_id = ? and billing_period = ? and not success and severity = 'fail'
        """,
        [RUN_ID, PERIOD],
    ).fetchall()
    return set(rows)


def assert_fails_only(
    con: duckdb.DuckDBPyConnection,
    suite: str,
    expectation: str,
    column: str,
    *,
    also: frozenset[tuple[str, str, str]] = frozenset(),
) -> ValidationFailed:
    """validate_candidate raises naming exactly this expectation (and those in `also`), and
    stores them as failed."""
    with pytest.raises(ValidationFailed) as caught:
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    message = str(caught.value)
    assert suite in message
    assert expectation in message
    assert repr(column) in message
    assert stored_failures(con) == {(suite, expectation, column)} | also
    assert caught.value.exit_code == 1
    return caught.value


def test_correct_candidate_passes_and_is_recorded(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    build_labor_estate(con)

    results = validate_candidate(con, period=PERIOD, run_id=RUN_ID)

    assert all(isinstance(r, CheckResult) for r in results)
    assert [r for r in results if not r.success] == []
    assert len(results) == expectation_count()
    stored = con.execute(
        "select count(*), count(*) filter (where success), min(checked_at) is not null "
        "from meta.check_results where run_id = ? and billing_period = ?",
        [RUN_ID, PERIOD],
    ).fetchone()
    assert stored == (expectation_count(), expectation_count(), True)
    billed = next(r for r in results if r.column == "billed_exact")
    # two groups (AWS USD, GCP EUR), both exact
    assert billed.observed == "0 of 2 rows unexpected"


def test_rerun_replaces_that_runs_rows(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    validate_candidate(con, period=PERIOD, run_id="another-run")
    counts = con.execute("select run_id, count(*) from meta.check_results group by run_id order by run_id").fetchall()
    # same run twice: its rows replaced, not doubled; another run keeps its own
    assert counts == [("another-run", expectation_count()), (RUN_ID, expectation_count())]


def test_a_validation_takes_what_is_imported_out_of_the_collectors_reach_once(
    con: duckdb.DuckDBPyConnection,
) -> None:
    build_billing_estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    frozen = gc.get_freeze_count()
    # the modules imported by now (Great Expectations' among them) are frozen: many thousands
    assert frozen > 10_000
    made_since = [[i] for i in range(1000)]  # tracked objects made after the freeze
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # once per process: a second validation freezes nothing more (made_since stays collectable)
    assert gc.get_freeze_count() == frozen
    assert gc.is_tracked(made_since[0])


def test_the_gx_context_keeps_its_configuration_in_memory_only() -> None:
    # an ephemeral context as get_context makes writes its whole configuration out (as YAML, into
    # an in-memory store) at each data source added; this one keeps it as it is, and works alike
    from great_expectations.data_context.data_context.context_factory import project_manager

    from pipeline.validate import _gx_context

    context = _gx_context(None)
    context.data_sources.add_pandas("frames").add_dataframe_asset("rows")
    assert list(context.data_sources.all()) == ["frames"]
    assert context.variables.store.list_keys() == []
    assert project_manager.get_current_project() is context  # where validation definitions look


def test_missing_cent_fails_billing_conservation(con: duckdb.DuckDBPyConnection) -> None:
    # search-rank gets 33.32 instead of 33.33:
    # AWS USD candidate 33.34 + 33.32 + 33.33 + 0.03 = 100.02; source 100.03; difference -0.01
    build_billing_estate(con, search_rank_billed="33.32")
    build_labor_estate(con)

    # the cent is missing from its invoice too (per-invoice reconciliation), and from both
    # reconciliation marts as they would read once published
    error = assert_fails_only(
        con,
        "billing_conservation",
        "expect_column_values_to_be_in_set",
        "billed_exact",
        also=frozenset({("invoice_reconciliation", "expect_column_values_to_be_in_set", "billed_exact")})
        | MARTS_RECONCILIATION,
    )

    message = str(error)
    assert "provider=AWS" in message
    assert "currency=USD" in message
    assert re.search(r"billed_difference=-0\.010*\b", message)
    assert "effective_exact" not in message  # effective totals still agree: 90.03 both sides


def test_staging_billing_counts_the_rows_whose_currency_is_not_a_code(con: duckdb.DuckDBPyConnection) -> None:
    # The frame tests the currency code once per (provider, currency) group, whose rows all have
    # it. By hand: AWS/USD 2 rows, none bad; AWS/usd 3 rows, all 3 bad (lower case); GCP/EURO 1
    # row, bad (four letters); GCP/EUR 1 row, none bad
    rows = [("AWS", "USD")] * 2 + [("AWS", "usd")] * 3 + [("GCP", "EURO"), ("GCP", "EUR")]
    for number, (provider, currency) in enumerate(rows, start=1):
        insert_billing(con, provider=provider, currency=currency, billed="1.00", effective="1.00", row_number=number)
    frame = frame_data(con, "staging_billing", period=PERIOD)
    got = {(r.provider, r.currency): (r.row_count, r.bad_currency_rows) for r in frame.itertuples()}
    assert got == {("AWS", "USD"): (2, 0), ("AWS", "usd"): (3, 3), ("GCP", "EURO"): (1, 1), ("GCP", "EUR"): (1, 0)}


def test_provider_missing_from_candidate_fails(con: duckdb.DuckDBPyConnection) -> None:
    # Azure billed 7.50 but no candidate row: full outer join shows candidate side 'missing',
    # difference 0 - 7.50 = -7.50
    build_billing_estate(con)
    insert_billing(con, provider="Azure", currency="USD", billed="7.50", effective="7.50", row_number=1)
    with pytest.raises(ValidationFailed) as caught:
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    message = str(caught.value)
    assert "provider=Azure" in message
    assert "candidate_billed=missing" in message
    assert (
        stored_failures(con)
        == {
            ("billing_conservation", "expect_column_values_to_be_in_set", "billed_exact"),
            ("billing_conservation", "expect_column_values_to_be_in_set", "effective_exact"),
            ("invoice_reconciliation", "expect_column_values_to_be_in_set", "billed_exact"),
            ("invoice_reconciliation", "expect_column_values_to_be_in_set", "effective_exact"),
        }
        | MARTS_RECONCILIATION
    )


def test_a_ledger_row_under_another_provider_than_its_charge_fails_both_reconciliations(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # gcp-1 (50.00 EUR, traced to the GCP charge load-GCP:1) is written under provider AWS. Per
    # provider and currency, AWS/EUR then has 50.00 of ledger rows and no bill (difference +50) and
    # GCP/EUR a 50.00 bill and no ledger row (-50): billing conservation fails. The invoice
    # reconciliation takes each ledger row under its own provider, with its charge's account and
    # invoice, so it fails on the same two keys (it used to take the charge's provider and pass).
    build_billing_estate(con)
    update_candidate(con, "gcp-1", provider="AWS")
    error = assert_fails_only(
        con,
        "billing_conservation",
        "expect_column_values_to_be_in_set",
        "billed_exact",
        also=frozenset(
            {
                ("billing_conservation", "expect_column_values_to_be_in_set", "effective_exact"),
                ("invoice_reconciliation", "expect_column_values_to_be_in_set", "billed_exact"),
                ("invoice_reconciliation", "expect_column_values_to_be_in_set", "effective_exact"),
            }
        )
        | MARTS_RECONCILIATION,
    )
    message = str(error)
    assert "provider=AWS, currency=EUR, source_billed=missing, candidate_billed=50" in message
    assert "provider=GCP, currency=EUR, source_billed=50, candidate_billed=missing" in message


def test_null_model_id_fails(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    update_candidate(con, "aws-2", model_id=None)
    error = assert_fails_only(con, "ledger_rows", "expect_column_values_to_not_be_null", "model_id")
    assert "lineage_id=aws-2" in str(error)


def test_unknown_category_fails(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    update_candidate(con, "aws-2", category="marketing")
    error = assert_fails_only(con, "ledger_rows", "expect_column_values_to_be_in_set", "category")
    assert "1 of 5 rows unexpected" in str(error)  # 5 candidate billing rows, one bad


def test_duplicate_lineage_id_fails(con: duckdb.DuckDBPyConnection) -> None:
    # relabel (not add) a row, so that the totals still conserve
    build_billing_estate(con)
    update_candidate(con, "aws-2", lineage_id="aws-1-a")
    error = assert_fails_only(con, "ledger_rows", "expect_column_values_to_be_unique", "lineage_id")
    assert "2 of 5 rows unexpected" in str(error)  # both rows of the duplicated key


def test_rows_beyond_the_sample_are_still_checked(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GX sees the first 2 rows by lineage id (aws-1-a, aws-1-b) plus every row SQL finds breaking
    # a fail rule: gcp-1 (last by lineage id) loses its model -> 3 rows seen, 1 unexpected.
    monkeypatch.setattr("pipeline.check_queries.LEDGER_SAMPLE_ROWS", 2)
    build_billing_estate(con)
    update_candidate(con, "gcp-1", model_id="rec llm")
    error = assert_fails_only(con, "ledger_rows", "expect_column_values_to_match_regex", "model_id")
    assert "1 of 3 rows unexpected" in str(error)
    assert "lineage_id=gcp-1" in str(error)


def test_bad_model_id_fails(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    update_candidate(con, "aws-2", model_id="rec llm")
    assert_fails_only(con, "ledger_rows", "expect_column_values_to_match_regex", "model_id")


def test_unallocated_without_reason_fails(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    update_candidate(con, "gcp-1", unallocated_reason=None)
    assert_fails_only(con, "ledger_rows", "expect_column_values_to_be_in_set", "unallocated_reason_given")


def test_labor_mismatch_fails_and_shows_no_amount(con: duckdb.DuckDBPyConnection) -> None:
    # candidate 7000.00 + 4999.99 = 11999.99, + variance 500.00 = 12499.99 against HR 12500.00: off by -0.01
    build_billing_estate(con)
    build_labor_estate(con, search_rank_cost="4999.99")
    error = assert_fails_only(con, "labor_conservation", "expect_column_values_to_be_in_set", "cost_exact")
    message = str(error) + repr(con.execute("select observed from meta.check_results").fetchall())
    assert "month=2025-01, currency=USD" in message
    for amount in ("12500", "12,500", "500", "0.01", "11999"):  # neither the HR total nor any difference
        assert amount not in message, amount


def test_labor_of_another_month_is_not_compared(con: duckdb.DuckDBPyConnection) -> None:
    # 2024-12's HR cost has no candidate rows in 2025-01, and must not count against it
    build_billing_estate(con)
    build_labor_estate(con)
    insert_labor_variance(con, hr_cost="999.00", variance="999.00", month="2024-12")
    assert all(r.success for r in validate_candidate(con, period=PERIOD, run_id=RUN_ID))


def test_labor_without_an_hr_database_fails(con: duckdb.DuckDBPyConnection) -> None:
    # candidate labor rows but no restricted HR database: nothing to reconcile them to
    build_billing_estate(con)
    build_labor_estate(con)
    shutil.rmtree(restricted_path(con).parent)
    assert_fails_only(con, "labor_conservation", "expect_column_values_to_be_in_set", "cost_exact")


def test_a_labor_cell_of_fewer_than_k_people_fails(con: duckdb.DuckDBPyConnection) -> None:
    # search-rank's cell stands for 2 people, under k = 3; the ledger rows built on it fail with it
    build_billing_estate(con)
    build_labor_estate(con)
    con.execute("update staging.labor set headcount = 2 where model_id = 'search-rank'")
    error = assert_fails_only(con, "labor_privacy", "expect_column_values_to_be_in_set", "at_least_k")
    # rows: 2 cells + 2 (model, cell) of candidate labor rows; search-rank's cell and its ledger rows are unexpected
    assert "2 of 4 rows unexpected" in str(error)
    assert "model_id=search-rank" in str(error)


def test_a_labor_row_with_no_cell_behind_it_fails(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    build_labor_estate(con)
    con.execute("delete from staging.labor where model_id = 'rec-llm-7b'")
    error = assert_fails_only(con, "labor_privacy", "expect_column_values_to_be_in_set", "at_least_k")
    assert "1 of 3 rows unexpected" in str(error) and "figure=ledger" in str(error)


def test_other_periods_are_ignored(con: duckdb.DuckDBPyConnection) -> None:
    # a broken 2025-02 candidate row (null model, unknown category, no bill): not 2025-01's
    build_billing_estate(con)
    insert_candidate(con, "feb-1", billing_period="2025-02", model_id=None, category="marketing")
    assert all(r.success for r in validate_candidate(con, period=PERIOD, run_id=RUN_ID))


def test_empty_frames_pass(con: duckdb.DuckDBPyConnection) -> None:
    results = validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert len(results) == expectation_count()
    assert all(r.success for r in results)
    assert {r.observed for r in results} == {"0 of 0 rows unexpected"}


def test_billing_only_estate_passes(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)  # no labor anywhere: labor_conservation's frame is empty
    assert all(r.success for r in validate_candidate(con, period=PERIOD, run_id=RUN_ID))


def test_warn_severity_is_recorded_but_does_not_raise(con: duckdb.DuckDBPyConnection) -> None:
    # a credit of -10.00 split -5.00 / -5.00: 2 of 2 rows negative, over the 10% `mostly` allows
    insert_billing(con, provider="AWS", currency="USD", billed="-10.00", effective="-10.00", row_number=1)
    insert_candidate(con, "credit-a", **money("-5.00"))
    insert_candidate(con, "credit-b", **money("-5.00"), model_id="search-rank")

    results = validate_candidate(con, period=PERIOD, run_id=RUN_ID)

    failed = {(r.column, r.severity) for r in results if not r.success}
    assert failed == {("billed_cost", "warn"), ("effective_cost", "warn")}
    stored = con.execute("select count(*) from meta.check_results where not success and severity = 'warn'").fetchone()
    assert stored == (2,)


def test_data_docs_are_built(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    build_billing_estate(con)
    docs = tmp_path / "docs"
    validate_candidate(con, period=PERIOD, run_id=RUN_ID, data_docs_dir=docs)
    assert (docs / "index.html").is_file()
    pages = {p.parts[len(docs.parts) + 1] for p in docs.glob("validations/*/**/*.html")}
    assert pages == {
        "billing_conservation",
        "invoice_reconciliation",
        "labor_conservation",
        "labor_privacy",
        "ledger_rows",
        "marts",
        "raw_load_balance",
        "staging_billing",
    }


def test_a_failed_suite_is_run_again_to_name_its_rows_and_keeps_one_result(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # the model id "rec llm" (a space) breaks ledger_rows' model id rule on aws-2: the suites run
    # with the BASIC result format, which gives the value only; ledger_rows runs again with its
    # index columns, and the message names the row by its lineage id. Its Data Docs page is the
    # second run's, in place of the first: one page per suite, as for a validation that passes
    build_billing_estate(con)
    update_candidate(con, "aws-2", model_id="rec llm")
    docs = tmp_path / "docs"
    with pytest.raises(ValidationFailed) as caught:
        validate_candidate(con, period=PERIOD, run_id=RUN_ID, data_docs_dir=docs)
    assert "lineage_id=aws-2" in str(caught.value)
    pages = sorted(p.parts[len(docs.parts) + 1] for p in docs.glob("validations/*/**/*.html"))
    assert pages == sorted(set(pages)) and len(pages) == 8
    assert "rec llm" in next(docs.glob("validations/ledger_rows/**/*.html")).read_text()


def test_data_docs_templates_are_compiled_once_per_user(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jinja2 import FileSystemBytecodeCache

    from pipeline import data_docs

    cache = tmp_path / "jinja"
    cache.mkdir()
    monkeypatch.setattr(data_docs, "_bytecode_cache", lambda: FileSystemBytecodeCache(str(cache)))
    build_billing_estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID, data_docs_dir=tmp_path / "docs")
    # the site's three views (suites, results, index) share one cache of compiled templates
    compiled = {p.name for p in cache.iterdir()}
    assert len(compiled) >= 10, compiled  # page, section, table, index page, ... each once
    assert (tmp_path / "docs" / "index.html").is_file()


def test_model_id_regex_accepts_buckets_and_rejects_bad_ids() -> None:
    suite = read_suite(REPO / "expectations" / "ledger_rows.json")
    (regex,) = [
        e["kwargs"]["regex"]
        for e in suite.definition["expectations"]
        if e["kwargs"].get("column") == "model_id" and "regex" in e["kwargs"]
    ]
    for good in (*BUCKETS, "rec-llm-7b", "search.rank_v2"):
        assert re.match(regex, good), good
    for bad in ("rec llm", "-rec", "__other__", ""):
        assert not re.match(regex, bad), bad


def test_every_suite_file_loads() -> None:
    names = {s.name for s in load_suites()}
    assert names == {
        "ledger_rows",
        "billing_conservation",
        "invoice_reconciliation",
        "labor_conservation",
        "labor_privacy",
        "marts",
        "raw_load_balance",
        "staging_billing",
    }


def write_suite(directory: Path, expectations: list[dict[str, Any]], **meta: Any) -> Path:
    path = directory / "broken.json"
    meta = {"frame": "ledger_rows", **meta}
    path.write_text(json.dumps({"name": "broken", "meta": meta, "expectations": expectations}))
    return path


def test_bad_suite_file_names_the_file(tmp_path: Path) -> None:
    path = write_suite(tmp_path, [], frame="nope")
    with pytest.raises(ConfigError, match="broken.json: meta.frame"):
        read_suite(path)
    unique = {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "lineage_id"}}
    path = write_suite(tmp_path, [unique])  # no severity
    with pytest.raises(ConfigError, match="expectation 1: 'severity'"):
        read_suite(path)


def test_unknown_expectation_type_is_an_error_not_a_skip(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GX 1.x logs an unknown type and drops it from the suite: that must not pass silently
    typo = {"type": "expect_column_values_to_be_uniqe", "kwargs": {"column": "lineage_id"}}
    write_suite(tmp_path, [{**typo, "severity": "critical"}])
    monkeypatch.setattr("pipeline.validate.EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(ConfigError, match="broken.json: Great Expectations accepted 0 of its 1"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # raised in the suites' thread, handed to the caller; the thread is gone
    assert not [t for t in threading.enumerate() if t.name == "Great Expectations"]


def test_a_frame_that_fails_to_load_stops_the_suites_thread(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = validate_module.frame_data

    def failing(con: duckdb.DuckDBPyConnection, frame: str, **kwargs: Any) -> Any:
        if frame == "marts":  # after the frames before it were handed to the thread
            raise duckdb.IOException("disk gone")
        return real(con, frame, **kwargs)

    monkeypatch.setattr(validate_module, "frame_data", failing)
    with pytest.raises(duckdb.IOException, match="disk gone"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert not [t for t in threading.enumerate() if t.name == "Great Expectations"]
    assert not con.execute("select * from meta.check_results where run_id = ?", [RUN_ID]).fetchall()


def test_import_does_not_load_great_expectations() -> None:
    code = "import sys, pipeline.validate; assert 'great_expectations' not in sys.modules"
    env = {"PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)


def test_the_ledger_rows_frame_reaches_pandas_with_the_types_the_suites_compare(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # the billing estate's 5 candidate rows: money as double (the frame's query casts it), the charge
    # date (the 3rd) as a datetime, text as pandas strings; billed 33.34 + 33.33 + 33.33 + 0.03 + 50.00 = 150.03
    build_billing_estate(con)
    frame = load_frame(con, "ledger_rows", period=PERIOD)
    assert len(frame) == 5
    assert frame["billed_cost"].dtype == "float64" and frame["effective_cost"].dtype == "float64"
    assert frame["billed_cost"].sum() == pytest.approx(150.03)
    assert frame["charge_date"].dtype.kind == "M"
    assert frame["charge_date"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2025-01-03"]
    assert frame["model_id"].dtype == "str"
    assert sorted(frame["lineage_id"]) == ["aws-1-a", "aws-1-b", "aws-1-c", "aws-2", "gcp-1"]
    assert frame["opportunity_unbilled"].dtype == "bool"


# ---- the marts suite: the marts computed over the candidate, as they will read once published


def test_the_invoice_reconciliation_is_computed_once_and_both_frames_read_it(con: duckdb.DuckDBPyConnection) -> None:
    # the candidate misses a cent of AWS's bill: search-rank 33.32 where 33.33 was billed, so the
    # AWS USD cell's billed difference is 33.34 + 33.32 + 33.33 + 0.03 - (100.00 + 0.03) = -0.01
    build_billing_estate(con, search_rank_billed="33.32")
    kept = keep_marts(con, PERIOD)
    try:
        [(difference,)] = con.execute(
            "select billed_difference from _mart_invoice_reconciliation where provider = 'AWS'"
        ).fetchall()
        assert difference == Decimal("-0.01")
        for frame in ("marts", "invoice_reconciliation"):  # the kept rows give the frames the mart's query gives
            assert load_frame(con, frame, period=PERIOD, kept=kept).equals(load_frame(con, frame, period=PERIOD))
    finally:
        drop_marts(con)
    assert not con.execute("select * from duckdb_tables() where table_name = '_mart_invoice_reconciliation'").fetchall()


def test_marts_frame_has_one_clean_row_for_a_correct_candidate(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    frame = load_frame(con, "marts", period=PERIOD)
    # every rule counts 0 rows: reconciliations balance, totals agree, no GPU, usage or commitment data at all
    assert frame.to_dict("records") == [
        {
            "billing_period": PERIOD,
            "billing_reconciliation_unbalanced": 0,
            "invoice_reconciliation_unbalanced": 0,
            "mart_totals_unbalanced": 0,
            "unit_costs_negative": 0,
            "gpu_hours_negative": 0,
            "gpu_utilisation_out_of_range": 0,
            "commitments_unreconciled": 0,
            "commitment_rates_out_of_range": 0,
        }
    ]


def break_mart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mart: str, old: str, new: str) -> None:
    """Check the marts from a copy of sql/marts/ whose `mart` has `old` replaced by `new`."""
    marts = tmp_path / "marts"
    shutil.copytree(REPO / "sql" / "marts", marts)
    path = marts / f"{mart}.sql"
    broken = path.read_text().replace(old, new)
    assert broken != path.read_text()
    path.write_text(broken)
    monkeypatch.setattr("pipeline.check_queries.MARTS_DIR", marts)


def test_a_mart_that_drops_rows_fails_its_totals(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a daily_model_cost that loses the __idle__ rows: its USD billed total is
    # 100.03 - 33.33 = 66.70 against the candidate's 100.03, so (daily_model_cost, USD) is the one
    # unbalanced total; every other mart still agrees and the ledger suites pass
    without_idle = "select * from ledger.cost_ledger where model_id <> '__idle__'\n"
    break_mart(tmp_path, monkeypatch, "daily_model_cost", "select * from ledger.cost_ledger\n", without_idle)
    build_billing_estate(con)
    error = assert_fails_only(con, "marts", "expect_column_values_to_be_between", "mart_totals_unbalanced")
    assert "mart_totals_unbalanced=1" in str(error)


def test_a_registry_that_counts_a_day_twice_fails_the_team_totals(con: duckdb.DuckDBPyConnection) -> None:
    # two open ownership periods for rec-llm-7b: each of its rows joins twice, so the team marts'
    # USD totals read 100.03 + 33.34 + 0.03 = 133.40 billed against the candidate's 100.03, and
    # daily_team_cost and monthly_team_cost are the two unbalanced totals (USD; EUR is a bucket's)
    build_billing_estate(con)
    for team in ("recsys", "search"):
        con.execute("insert into meta.model_registry values ('rec-llm-7b', 'LLM', 'rec', ?, 'x', null, null)", [team])
    frame = load_frame(con, "marts", period=PERIOD)
    assert frame["mart_totals_unbalanced"].tolist() == [2]
    error = assert_fails_only(con, "marts", "expect_column_values_to_be_between", "mart_totals_unbalanced")
    assert "mart_totals_unbalanced=2" in str(error)


def test_a_commitment_charge_traced_to_the_wrong_row_fails_its_reconciliation(con: duckdb.DuckDBPyConnection) -> None:
    # AWS row 1 is usage covered by savings plan sp-1 (effective 90.00): marts.commitments says
    # used 90.00; the candidate's rows traced to it carry 30.00 x 3 = 90.00: reconciled. Tracing
    # __idle__'s 30.00 to row 2 instead (the same invoice, so billing and invoice totals still
    # balance) leaves 60.00 against 90.00: only the commitment reconciliation fails
    build_billing_estate(con)
    con.execute(
        "update staging.billing set CommitmentDiscountId = 'sp-1', CommitmentDiscountStatus = 'Used', "
        "ServiceCategory = 'Compute' where load_id = 'load-AWS' and row_number = 1"
    )
    assert load_frame(con, "marts", period=PERIOD)["commitments_unreconciled"].tolist() == [0]
    update_candidate(con, "aws-1-c", source_ref="load-AWS:2")
    error = assert_fails_only(con, "marts", "expect_column_values_to_be_between", "commitments_unreconciled")
    assert "commitments_unreconciled=1" in str(error)


def test_a_negative_unit_cost_is_a_warning(con: duckdb.DuckDBPyConnection) -> None:
    # a credit of -40.00 to rec-llm-7b on 2025-01-03 (billed and in the candidate: conserved);
    # its day: 30.00 + 0.03 - 40.00 = -9.97 effective over 1000 requests -> -9.97 per 1k requests
    build_billing_estate(con)
    insert_billing(con, provider="AWS", currency="USD", billed="-40.00", effective="-40.00", row_number=3)
    insert_candidate(con, "aws-3", **money("-40.00"), source_ref="load-AWS:3")
    con.execute("insert into staging.usage values ('load-usage', 1, '2025-01-03', 'rec-llm-7b', 1000, null, null)")

    results = validate_candidate(con, period=PERIOD, run_id=RUN_ID)

    failed = {(r.suite, r.column, r.severity) for r in results if not r.success}
    # 1 of 6 candidate rows negative is under ledger_rows' 90% too: two more warnings
    assert failed == {
        ("marts", "unit_costs_negative", "warn"),
        ("ledger_rows", "billed_cost", "warn"),
        ("ledger_rows", "effective_cost", "warn"),
    }
    (unit,) = [r for r in results if r.column == "unit_costs_negative"]
    assert unit.observed == "1 of 1 rows unexpected, e.g. unit_costs_negative=1, billing_period=2025-01"


def test_gpu_utilisation_above_100_percent_is_a_warning(con: duckdb.DuckDBPyConnection) -> None:
    # AWS row 1 is node gpu-node-1 of pool `pool`, split into 3 GPU-hour rows; one GPU_UTIL
    # sample of 150 (%) with no pod on 2025-01-03 is __idle__'s utilisation that day: 150 is
    # outside [0, 100]; a sample of the next month at 200 is not this period's
    build_billing_estate(con)
    con.execute("update staging.billing set ResourceName = 'gpu-node-1' where load_id = 'load-AWS' and row_number = 1")
    con.execute(
        "update ledger.cost_ledger_candidate set quantity = 1, quantity_unit = 'GPU-hours' where lineage_id like "
        "'aws-1-%'"
    )
    con.execute("insert into meta.gpu_pools values (1, 'pool', 'gpu-node-.*', null, 8, 'gpu_time', 'keep')")
    for ts, value in (("2025-01-03 00:00:00", 150), ("2025-02-03 00:00:00", 200)):
        con.execute(
            "insert into staging.gpu_samples (load_id, row_number, metric, ts, step_seconds, hostname, gpu, value) "
            "values ('load-t', 1, 'DCGM_FI_DEV_GPU_UTIL', ?, 60, 'gpu-node-1', '0', ?)",
            [ts, value],
        )

    frame = load_frame(con, "marts", period=PERIOD)
    assert frame["gpu_utilisation_out_of_range"].tolist() == [1]  # __idle__'s row only
    assert frame["gpu_hours_negative"].tolist() == [0]
    results = validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert {(r.column, r.severity) for r in results if not r.success} == {("gpu_utilisation_out_of_range", "warn")}


def test_a_cost_of_delay_carried_as_effective_cost_fails(con: duckdb.DuckDBPyConnection) -> None:
    # an opportunity row (cost of delay) that bills 0 but amortises 500.00: it belongs in
    # economic_cost only, so opportunity_unbilled is false for it and that one rule fails
    build_billing_estate(con)
    insert_candidate(
        con,
        "delay-1",
        source="milestones",
        provider="internal",
        category="time",
        subcategory="delay",
        allocation_method="delay",
        source_ref="m:1",
        cost_basis="opportunity",
        phase="shared",
        billed_cost=Decimal(0),
        source_amount=Decimal(0),
        effective_cost=Decimal("500.00"),
        source_effective_amount=Decimal("500.00"),
        economic_cost=Decimal("500.00"),
    )
    assert_fails_only(con, "ledger_rows", "expect_column_values_to_be_in_set", "opportunity_unbilled")


def test_an_unknown_phase_fails(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    update_candidate(con, "aws-2", phase="serving")
    assert_fails_only(con, "ledger_rows", "expect_column_values_to_be_in_set", "phase")


def test_unit_costs_that_count_a_training_row_fail_their_totals(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aws-2 (0.03, rec-llm-7b) is fine-tuning: the serving unit costs leave it out, so they total
    # the candidate's inference rows. A unit_costs that forgets the phase counts 0.03 too many
    # against that total: (unit_costs, USD) is the one unbalanced total
    build_billing_estate(con)
    update_candidate(con, "aws-2", phase="fine_tuning")
    assert load_frame(con, "marts", period=PERIOD)["mart_totals_unbalanced"].tolist() == [0]
    break_mart(tmp_path, monkeypatch, "unit_costs", "where phase = 'inference'", "where true")
    assert load_frame(con, "marts", period=PERIOD)["mart_totals_unbalanced"].tolist() == [1]


def test_a_model_cost_mart_that_drops_the_cost_of_delay_fails_its_economic_total(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a cost of delay of 500.00 (opportunity: billed and effective 0, economic 500.00) beside the
    # bills: the candidate's USD economic total is 100.03 + 500.00 = 600.03. A daily_model_cost
    # that sums effective cost as its economic cost reads 100.03: (daily_model_cost, USD) is the
    # one unbalanced total (billed and effective still agree)
    build_billing_estate(con)
    insert_candidate(
        con,
        "delay-1",
        source="milestones",
        provider="internal",
        category="time",
        subcategory="delay",
        allocation_method="delay",
        source_ref="m:1",
        cost_basis="opportunity",
        phase="shared",
        billed_cost=Decimal(0),
        source_amount=Decimal(0),
        effective_cost=Decimal(0),
        source_effective_amount=Decimal("500.00"),
        economic_cost=Decimal("500.00"),
    )
    assert load_frame(con, "marts", period=PERIOD)["mart_totals_unbalanced"].tolist() == [0]
    economic = "sum(economic_cost) as economic_cost"
    break_mart(tmp_path, monkeypatch, "daily_model_cost", economic, "sum(effective_cost) as economic_cost")
    assert load_frame(con, "marts", period=PERIOD)["mart_totals_unbalanced"].tolist() == [1]
