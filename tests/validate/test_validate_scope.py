"""A validation checks again only what changed since the period last passed: the days whose rows
differ (meta.validated_days keeps a digest per day), and the files loaded since. The period's
totals are checked every time; another basis (build recipe, suites, check SQL), or a full
check, checks every day. Publish likewise writes again only the rows that changed.

The estate is test_validate's (billing period 2025-01) with one row moved a day on:

    2025-01-03: aws-1-a 33.34, aws-1-b 33.33, aws-1-c 33.33 (AWS USD row 1), gcp-1 50.00 EUR
    2025-01-04: aws-2 0.03 (AWS USD row 2)
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline import run, warehouse
from pipeline.check_queries import EVERYTHING, Scope, frame_data, mart_query, samples_checked
from pipeline.columns import ROW_HASH
from pipeline.errors import ValidationFailed
from pipeline.ledger.frame import query as ledger_query
from pipeline.report.data import Month
from pipeline.report.queries import query as report_query
from pipeline.validate import check_scope, validate_candidate
from pipeline.workspace import Workspace
from tests.ledger.test_billing_parts_kept import _usage, _write
from tests.ledger.test_tax_pool import CONFIG_TOML
from tests.validate.test_validate import PERIOD, RUN_ID, break_mart, build_billing_estate, update_candidate

DAY_3, DAY_4 = date(2025, 1, 3), date(2025, 1, 4)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def _estate(con: duckdb.DuckDBPyConnection) -> None:
    build_billing_estate(con)
    update_candidate(con, "aws-2", charge_date=DAY_4)


def test_the_first_validation_checks_every_day_and_the_next_only_what_changed(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    assert check_scope(con, PERIOD).scope == EVERYTHING  # never validated
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)

    again = check_scope(con, PERIOD)
    assert again.scope.days == []  # nothing changed since
    assert [day for day, *_ in again.days] == [DAY_3, DAY_4]

    update_candidate(con, "aws-2", model_id="rec llm")  # day 4 only, and breaks the model id rule
    assert check_scope(con, PERIOD).scope.days == [DAY_4]
    with pytest.raises(ValidationFailed) as caught:
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # GX saw day 4's one row, not the five of the period
    assert "model_id" in str(caught.value)
    assert "1 of 1 rows unexpected" in str(caught.value)

    # a failed validation keeps the digests that last passed: day 4 stays to check
    assert check_scope(con, PERIOD).scope.days == [DAY_4]
    update_candidate(con, "aws-2", model_id="rec-llm-7b")
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert check_scope(con, PERIOD).scope.days == []


def test_gpu_efficiency_is_checked_again_on_the_days_whose_gpu_time_changed(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # aws-2 (day 4) is no GPU time: its model changes day 4, not the GPU efficiency of any day
    update_candidate(con, "aws-2", model_id="search-rank")
    scope = check_scope(con, PERIOD).scope
    assert (scope.days, scope.gpu_days) == ([DAY_4], [])
    # and the same delivered rows are behind day 4: its files' balance is not checked again
    assert scope.source_days == []
    # aws-1-a (day 3) holds 2 GPU-hours now
    update_candidate(con, "aws-1-a", quantity=Decimal("2"), quantity_unit="GPU-hours")
    scope = check_scope(con, PERIOD).scope
    assert (scope.days, scope.gpu_days) == ([DAY_3, DAY_4], [DAY_3])
    assert "$gpu_days" in mart_query("gpu_efficiency") and "$days" not in mart_query("gpu_efficiency")


def test_a_day_that_changes_only_its_run_id_is_not_checked_again(con: duckdb.DuckDBPyConnection) -> None:
    # a run id alone is no change (publish stamps every published row with the candidate's)
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    con.execute("update ledger.cost_ledger_candidate set run_id = 'the next build'")
    assert check_scope(con, PERIOD).scope.days == []


def test_a_day_digest_adds_up_the_rows_stored_hashes(con: duckdb.DuckDBPyConnection) -> None:
    # the estate's rows were written without a stored hash: the digests hashed them as they read them
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # day 4's row, its content as it was, with another stored hash: the digest reads the stored one
    con.execute("update ledger.cost_ledger_candidate set row_hash = 1 where lineage_id = 'aws-2'")
    assert check_scope(con, PERIOD).scope.days == [DAY_4]
    # without one again, it is hashed as it was when validated: nothing changed
    con.execute("update ledger.cost_ledger_candidate set row_hash = null where lineage_id = 'aws-2'")
    assert check_scope(con, PERIOD).scope.days == []


def test_a_row_converted_again_at_a_restated_rate_is_hashed_again(con: duckdb.DuckDBPyConnection) -> None:
    # a build converts a kept row again in place when its day's FX rate is restated (fx_restated.sql)
    _estate(con)
    con.execute(f"update ledger.cost_ledger_candidate set row_hash = {ROW_HASH}")  # as a build stores them
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    con.execute("insert into staging.fx_rates values ('fx-2', 1, ?, 'EUR', 1.1)", [DAY_3])
    con.execute(ledger_query("macros"))
    con.execute(ledger_query("fx_restated"), {"period": PERIOD, "currency": "USD"})
    # gcp-1: 50.00 EUR at 1.1 = 55.00 USD; its stored hash cleared, so day 3 is checked again
    assert con.execute(
        "select fx_rate, billed_cost, row_hash from ledger.cost_ledger_candidate where lineage_id = 'gcp-1'"
    ).fetchall() == [(Decimal("1.1"), Decimal("55.00"), None)]
    assert check_scope(con, PERIOD).scope.days == [DAY_3]


def test_a_day_whose_rows_go_is_checked_again(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    con.execute("delete from ledger.cost_ledger_candidate where lineage_id = 'aws-2'")
    scope = check_scope(con, PERIOD).scope
    # a delivered row is no longer behind day 4: its files' balance is checked again too
    assert (scope.days, scope.source_days) == ([DAY_4], [DAY_4])
    # the period's totals are checked whatever the days: AWS USD now bills 100.00 of 100.03
    with pytest.raises(ValidationFailed, match="billed_exact"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)


def _sample(con: duckdb.DuckDBPyConnection, load_id: str, ts: str, row_number: int = 1) -> None:
    con.execute(
        "insert into staging.gpu_samples (load_id, row_number, metric, ts, step_seconds, hostname, gpu, value) "
        "values (?, ?, 'DCGM_FI_DEV_GPU_UTIL', ?::timestamp, 60, 'node-1', '0', 50)",
        [load_id, row_number, ts],
    )


def test_a_day_whose_samples_change_is_checked_again(con: duckdb.DuckDBPyConnection) -> None:
    # the samples' digests add up ledger.telemetry_days, which check_scope brings up to date
    _estate(con)
    _sample(con, "gpu-a", "2025-01-03 10:00:00")
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert check_scope(con, PERIOD).scope.days == []
    # a second file version with a sample of day 4: day 4's samples changed, day 3's did not
    _sample(con, "gpu-b", "2025-01-04 10:00:00")
    scope = check_scope(con, PERIOD).scope
    assert (scope.days, scope.gpu_days, scope.source_days) == ([DAY_4], [DAY_4], [DAY_4])
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert check_scope(con, PERIOD).scope.days == []
    # one more sample of the same version on day 4 (a version's count is part of its digest)
    _sample(con, "gpu-b", "2025-01-04 10:01:00", row_number=2)
    con.execute("delete from ledger.telemetry_days where load_id = 'gpu-b'")  # the summary forgets it
    assert check_scope(con, PERIOD).scope.gpu_days == [DAY_4]
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # the first version superseded (its samples gone): day 3 is checked again
    con.execute("delete from staging.gpu_samples where load_id = 'gpu-a'")
    assert check_scope(con, PERIOD).scope.gpu_days == [DAY_3]


def _invoice_days(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select charge_date, provider, currency, ledger_rows, ledger_billed from meta.validated_invoice_days "
        "order by charge_date, provider"
    ).fetchall()


def test_the_invoice_reconciliation_traces_again_only_the_days_checked(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # the ledger's billing rows traced to their charges, per day, as this validation computed them:
    # day 3 AWS 33.34 + 33.33 + 33.33 = 100.00 (3 rows), GCP 50.00; day 4 AWS 0.03
    day_3_aws = (DAY_3, "AWS", "USD", 3, Decimal("100.00"))
    assert _invoice_days(con) == [
        day_3_aws,
        (DAY_3, "GCP", "EUR", 1, Decimal("50.00")),
        (DAY_4, "AWS", "USD", 1, Decimal("0.03")),
    ]
    # day 3's kept AWS total made a cent too high: only day 4 changes, so day 3 is not traced again
    # and the reconciliation reads the kept 100.01 + 0.03 against the bill's 100.03
    con.execute(
        "update meta.validated_invoice_days set ledger_billed = 100.01 where charge_date = ? and provider = 'AWS'",
        [DAY_3],
    )
    update_candidate(con, "aws-2", model_id="search-rank")
    with pytest.raises(ValidationFailed, match="invoice_reconciliation: .*billed_exact"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # a full check traces every day again: it passes, and keeps day 3's true total
    validate_candidate(con, period=PERIOD, run_id=RUN_ID, checking=check_scope(con, PERIOD, full=True))
    assert _invoice_days(con)[0] == day_3_aws


def _kept_totals(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select load_id, currency, charges, billed, effective from meta.validated_billing_totals order by load_id"
    ).fetchall()


def test_the_bill_is_added_up_again_only_for_the_files_that_changed(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # the bill's totals per file as this validation added them up: AWS rows 1 and 2, 100.00 + 0.03
    # billed and 90.00 + 0.03 effective; GCP row 1, 50.00
    assert _kept_totals(con) == [
        ("load-AWS", "USD", 2, Decimal("100.03"), Decimal("90.03")),
        ("load-GCP", "EUR", 1, Decimal("50.00"), Decimal("50.00")),
    ]
    # GCP's kept total made a cent too high: its file still has its one staged row, so the next
    # validation takes the kept 50.01 as the bill's, against the ledger's 50.00
    con.execute("update meta.validated_billing_totals set billed = 50.01 where load_id = 'load-GCP'")
    with pytest.raises(ValidationFailed, match="billing_conservation: .*billed_exact"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # a full check adds up every file again: it passes, and keeps GCP's true total
    validate_candidate(con, period=PERIOD, run_id=RUN_ID, checking=check_scope(con, PERIOD, full=True))
    assert _kept_totals(con)[1] == ("load-GCP", "EUR", 1, Decimal("50.00"), Decimal("50.00"))
    # AWS's file now has a row fewer (row 2 went, and its ledger row): its kept total, made wrong,
    # is not read; the file is added up again, 100.00 billed and 90.00 effective, and it balances
    con.execute("update meta.validated_billing_totals set billed = 999 where load_id = 'load-AWS'")
    con.execute("delete from staging.billing where load_id = 'load-AWS' and row_number = 2")
    con.execute("delete from ledger.cost_ledger_candidate where lineage_id = 'aws-2'")
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert _kept_totals(con)[0] == ("load-AWS", "USD", 1, Decimal("100.00"), Decimal("90.00"))


def _kept_commitment(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select load_id, commitment_id, kind, charges, effective, list_cost from meta.validated_commitment_totals "
        "where commitment_id is not null order by load_id"
    ).fetchall()


def test_the_commitments_are_added_up_again_only_for_the_files_that_changed(con: duckdb.DuckDBPyConnection) -> None:
    # AWS row 1 is usage covered by savings plan sp-1: 90.00 effective, 100.00 list (its billed
    # cost, the larger, as the row gives no list cost); the candidate's rows traced to it carry
    # 30.00 x 3 = 90.00
    _estate(con)
    con.execute(
        "update staging.billing set CommitmentDiscountId = 'sp-1', CommitmentDiscountStatus = 'Used', "
        "ServiceCategory = 'Compute' where load_id = 'load-AWS' and row_number = 1"
    )
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert _kept_commitment(con) == [("load-AWS", "sp-1", "used", 1, Decimal("90.00"), Decimal("100.00"))]
    # the kept used cost made a cent too high: AWS's file still has its two staged rows, so the
    # next validation's commitments mart reads 90.01 against the candidate's 90.00
    con.execute("update meta.validated_commitment_totals set effective = 90.01 where commitment_id = 'sp-1'")
    update_candidate(con, "aws-2", model_id="search-rank")
    with pytest.raises(ValidationFailed, match="marts: .*commitments_unreconciled"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # a full check adds up every file again: it passes, and keeps the true 90.00
    validate_candidate(con, period=PERIOD, run_id=RUN_ID, checking=check_scope(con, PERIOD, full=True))
    assert _kept_commitment(con) == [("load-AWS", "sp-1", "used", 1, Decimal("90.00"), Decimal("100.00"))]
    # AWS's file with a row fewer (row 2 went, and its ledger row) is added up again: the wrong
    # kept total is not read, and the commitment reconciles
    con.execute("update meta.validated_commitment_totals set effective = 1 where commitment_id = 'sp-1'")
    con.execute("delete from staging.billing where load_id = 'load-AWS' and row_number = 2")
    con.execute("delete from ledger.cost_ledger_candidate where lineage_id = 'aws-2'")
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert _kept_commitment(con) == [("load-AWS", "sp-1", "used", 1, Decimal("90.00"), Decimal("100.00"))]


def test_charges_gone_from_staging_trace_every_day_again(con: duckdb.DuckDBPyConnection) -> None:
    # AWS's bill is of account acct-1, so a ledger row whose charge went shows under no account
    _estate(con)
    con.execute("update staging.billing set BillingAccountId = 'acct-1' where ProviderName = 'AWS'")
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    # a restatement (a later file with the same charge) took AWS's row 1 out of staging, and day
    # 3's ledger rows were not built again: they name a charge no longer staged
    con.execute(
        "insert into staging.billing by name select * replace ('load-AWS-restated' as load_id) from staging.billing "
        "where load_id = 'load-AWS' and row_number = 1"
    )
    con.execute("delete from staging.billing where load_id = 'load-AWS' and row_number = 1")
    update_candidate(con, "aws-2", model_id="search-rank")  # day 4 changes, day 3 does not
    assert check_scope(con, PERIOD).scope.days == [DAY_4]
    # load-AWS has 1 staged row of the 2 it had: every day is traced again, and day 3's 100.00
    # shows under no account: the bill's (AWS, acct-1) 100.03 against the ledger's 0.03
    with pytest.raises(ValidationFailed, match="invoice_reconciliation: .*billed_exact"):
        validate_candidate(con, period=PERIOD, run_id=RUN_ID)


def test_another_recipe_or_a_full_check_checks_every_day(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    validate_candidate(con, period=PERIOD, run_id=RUN_ID)
    assert check_scope(con, PERIOD, full=True).scope == EVERYTHING
    con.execute("insert into ledger.candidate_builds values (?, 'another recipe', ?, now())", [PERIOD, RUN_ID])
    assert check_scope(con, PERIOD).scope == EVERYTHING


def test_the_day_grain_and_monthly_marts_read_only_the_days_checked(con: duckdb.DuckDBPyConnection) -> None:
    _estate(con)
    # a monthly mart too: the checks only add its money up, against the candidate's of those days
    for mart in ("daily_model_cost", "monthly_model_cost"):
        query = f"select sum(billed_cost) from ({mart_query(mart)}) where currency = 'USD'"
        # every day: 33.34 + 33.33 + 33.33 + 0.03 = 100.03; day 4 alone: aws-2's 0.03
        assert con.execute(query, {"period": PERIOD, "days": None}).fetchall() == [(Decimal("100.03"),)]
        assert con.execute(query, {"period": PERIOD, "days": [DAY_4]}).fetchall() == [(Decimal("0.03"),)]
    scope = Scope(days=[DAY_4], gpu_days=[], since=datetime(2025, 2, 1))
    marts = frame_data(con, "marts", period=PERIOD, scope=scope)
    assert marts["mart_totals_unbalanced"].tolist() == [0]


def test_a_monthly_mart_that_loses_a_checked_days_rows_fails_its_totals(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # monthly_model_cost without day 4's rows: with day 4 checked, the mart has no USD money
    # against the candidate's 0.03 (aws-2) that day, so (monthly_model_cost, USD) is unbalanced;
    # with day 3 checked alone, both add up to 100.00 (33.34 + 33.33 + 33.33)
    without_day_4 = "select * from ledger.cost_ledger where charge_date <> date '2025-01-04'\n"
    break_mart(tmp_path, monkeypatch, "monthly_model_cost", "select * from ledger.cost_ledger\n", without_day_4)
    _estate(con)
    for days, unbalanced in (([DAY_4], 1), ([DAY_3], 0), (None, 1)):
        scope = Scope(days=days, gpu_days=[], since=datetime(2025, 2, 1))
        assert frame_data(con, "marts", period=PERIOD, scope=scope)["mart_totals_unbalanced"].tolist() == [unbalanced]


def _load(con: duckdb.DuckDBPyConnection, load_id: str, loaded_at: datetime) -> None:
    con.execute(
        "insert into meta.loads values (?, 'billing', ?, 'sum', 'focus-1.2', 1, 1, 0, 'loaded', null, null, ?, ?)",
        [load_id, f"billing/{load_id}.csv", [PERIOD], loaded_at],
    )


def test_the_balance_is_checked_for_files_loaded_restated_or_behind_a_day_whose_rows_changed(
    con: duckdb.DuckDBPyConnection,
) -> None:
    since = datetime(2025, 2, 10)
    for load_id in ("old", "restated", "load-AWS"):
        _load(con, load_id, since - timedelta(days=1))
    _load(con, "new", since + timedelta(hours=1))
    con.execute("insert into meta.replaced_rows values ('restated', 1, 'new', ?)", [since + timedelta(hours=1)])
    _estate(con)  # aws-2, on day 4, comes from load-AWS row 2
    nothing_behind = Scope(days=[DAY_4], gpu_days=[], since=since, source_days=[])
    checked = frame_data(con, "load_balance", period=PERIOD, scope=nothing_behind)
    assert sorted(checked["load_id"]) == ["new", "restated"]
    day_4 = Scope(days=[DAY_4], gpu_days=[], since=since, source_days=[DAY_4])
    checked = frame_data(con, "load_balance", period=PERIOD, scope=day_4)
    assert sorted(checked["load_id"]) == ["load-AWS", "new", "restated"]
    every = frame_data(con, "load_balance", period=PERIOD)
    assert sorted(every["load_id"]) == ["load-AWS", "new", "old", "restated"]


def test_the_balance_is_checked_for_the_telemetry_files_of_the_gpu_days_checked(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # two telemetry files loaded before the last validation: samples at 23:30 on day 5 and at
    # midnight on day 6. Day 5's GPU time changed: its file is checked, day 6's is not; no GPU day
    # changed: neither is
    since = datetime(2025, 2, 10)
    for load_id, ts in (("gpu-5", "2025-01-05 23:30:00"), ("gpu-6", "2025-01-06 00:00:00")):
        _load(con, load_id, since - timedelta(days=1))
        con.execute(
            "insert into staging.gpu_samples (load_id, row_number, metric, ts, step_seconds, hostname, gpu, value) "
            "values (?, 1, 'DCGM_FI_DEV_GPU_UTIL', ?::timestamp, 60, 'node-1', '0', 50)",
            [load_id, ts],
        )

    def checked(gpu_days: list[date]) -> list[str]:
        scope = Scope(days=gpu_days, gpu_days=gpu_days, since=since, source_days=[])
        return sorted(frame_data(con, "load_balance", period=PERIOD, scope=scope)["load_id"])

    assert checked([date(2025, 1, 5)]) == ["gpu-5"]
    assert checked([date(2025, 1, 6)]) == ["gpu-6"]
    assert checked([]) == []


def _said(ws: Workspace, command: str) -> list[str]:
    """What each successful `command` step said in brackets, in order."""
    with warehouse.connect(ws.warehouse) as connection:
        rows = connection.execute(
            "select message from meta.runs where command = ? and status = 'success' order by started_at", [command]
        ).fetchall()
    return [message.split("(")[-1].rstrip(")") for (message,) in rows]


def _published_is_the_candidate(ws: Workspace) -> bool:
    """Every column of every row, run_id too: a row, kept or published, keeps the run_id of the
    build that wrote it."""
    with warehouse.connect(ws.warehouse) as connection:
        published, candidate = (
            connection.execute(f"select * {rest} from ledger.{table} order by lineage_id").fetchall()
            for table, rest in (("cost_ledger", ""), ("cost_ledger_candidate", "exclude (row_hash)"))
        )
    return published == candidate != []


def test_nightly_runs_validate_the_new_day_and_a_restated_one(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    _write(ws, "jan-05.csv", [_usage(5, "search", "30.00")])
    run.run(ws, date=date(2026, 1, 5), settle_seconds=0)
    _write(ws, "jan-06.csv", [_usage(6, "search", "10.00")])
    run.run(ws, date=date(2026, 1, 6), settle_seconds=0)
    # night 2 wrote day 6's rows only: day 5's rows keep night 1's run id, in the candidate and
    # as published (publish wrote day 6's rows only)
    with warehouse.connect(ws.warehouse) as connection:
        builds = connection.execute(
            "select run_id from meta.runs where command = 'build' order by started_at"
        ).fetchall()
        candidate, published = (
            connection.execute(f"select distinct day(charge_date), run_id from ledger.{t} order by all").fetchall()
            for t in ("cost_ledger_candidate", "cost_ledger")
        )
        # the report names the build the month was last published from, and its checks only
        month = Month.parse("2026-01").params()
        shown = {
            name: connection.execute(sql, {k: v for k, v in month.items() if f"${k}" in sql}).fetchall()
            for name, sql in ((name, report_query(name)) for name in ("run_ids", "check_results"))
        }
        # the build stored each row's hash: what validation would compute (pipeline.columns.ROW_HASH)
        hashed = connection.execute(
            f"select count(*), count(*) filter (row_hash is distinct from {ROW_HASH}) from ledger.cost_ledger_candidate"
        ).fetchall()
    night_1, night_2 = (run_id for (run_id,) in builds)
    assert night_1 != night_2
    assert hashed[0][0] > 0 and hashed[0][1] == 0
    assert candidate == published == [(5, night_1), (6, night_2)]
    assert shown["run_ids"] == [(night_2,)]
    assert {row[-1] for row in shown["check_results"]} == {night_2}  # night 1's are kept, not shown
    _write(ws, "jan-05.csv", [_usage(5, "search", "31.00")])  # a new version of day 5's file
    run.run(ws, date=date(2026, 1, 6), settle_seconds=0)
    assert _published_is_the_candidate(ws)  # every column, run_id too
    run.run(ws, date=date(2026, 1, 6), month="2026-01", settle_seconds=0, full_check=True)
    # night 1: first; night 2: day 6 new, day 5 as it was; night 3: day 5 restated
    assert _said(ws, "validate") == ["every day", "1 changed day of 2", "1 changed day of 2", "every day"]
    # publish writes only the rows that changed: night 1 day 5's one row; night 2 day 6's; night 3
    # day 5's row of the new file version (a new source_ref, so a new lineage id) in, the old out.
    # It compares only the days whose validated digest changed since they were published: night 2
    # day 6 (new), night 3 day 5 (restated), then none
    said = [
        "1 new, changed or gone",
        "1 new, changed or gone; 1 changed day of 2 compared",
        "2 new, changed or gone; 1 changed day of 2 compared",
        "0 new, changed or gone; 0 changed days of 2 compared",
    ]
    assert _said(ws, "publish") == said
    assert _published_is_the_candidate(ws)
    # night 5: both days' files restated: publish writes the rows of two days, each day's old row
    # out and its new one in
    _write(ws, "jan-05.csv", [_usage(5, "search", "32.00")])
    _write(ws, "jan-06.csv", [_usage(6, "search", "11.00")])
    run.run(ws, date=date(2026, 1, 6), settle_seconds=0)
    assert _said(ws, "publish")[-1] == "4 new, changed or gone; 2 changed days of 2 compared"
    assert _published_is_the_candidate(ws)


def test_a_first_publish_writes_every_day_of_the_period_in_day_order(tmp_path: Path) -> None:
    # three days' files, delivered 7, 5, 6 in one run: the first publish inserts the period in runs
    # of whole days, each sorted by day. The published ledger is the candidate (every row once:
    # 3 rows, 30 + 10 + 20 = 60.00), stored day after day (its rowids follow the days), and the run
    # says every row was new
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    for day, amount in ((7, "30.00"), (5, "10.00"), (6, "20.00")):
        _write(ws, f"jan-{day:02d}.csv", [_usage(day, "search", amount)])
    run.run(ws, date=date(2026, 1, 7), settle_seconds=0)
    assert _published_is_the_candidate(ws)
    with warehouse.connect(ws.warehouse) as connection:
        days = connection.execute("select charge_date from ledger.cost_ledger order by rowid").fetchall()
        ((total,),) = connection.execute("select sum(effective_cost) from ledger.cost_ledger").fetchall()
    assert [day.day for (day,) in days] == sorted(day.day for (day,) in days)
    assert {day.day for (day,) in days} == {5, 6, 7} and total == Decimal("60.00")
    assert _said(ws, "publish") == [f"{len(days)} new, changed or gone"]


def test_a_first_publish_inserts_runs_of_whole_days_of_up_to_a_chunk_of_rows() -> None:
    # a chunk of 1,000: days 1 + 2 (600 + 300 = 900); day 3 (200: 1,100 with them); day 4 alone
    # (1,500, more than a chunk); day 5 (10: a run of its own, the null day follows); the null day
    days = [
        (date(2026, 1, 1), 600),
        (date(2026, 1, 2), 300),
        (date(2026, 1, 3), 200),
        (date(2026, 1, 4), 1500),
        (date(2026, 1, 5), 10),
        (None, 3),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run, "PUBLISH_ROWS", 1000)
        runs = run._day_runs(days)
    assert runs == [
        (date(2026, 1, 1), date(2026, 1, 2)),
        (date(2026, 1, 3), date(2026, 1, 3)),
        (date(2026, 1, 4), date(2026, 1, 4)),
        (date(2026, 1, 5), date(2026, 1, 5)),
        (None, None),
    ]


def test_the_samples_of_the_days_checked_are_those_of_the_period_on_those_days() -> None:
    """samples_checked bounds ts by the first and last day checked (for DuckDB's row-group
    skipping) and keeps only the days in the list: days 3 and 10 of January take their own
    samples, from midnight to the last microsecond, and not those of the days between."""
    con = duckdb.connect()
    con.execute("create table staging_gpu_samples (ts timestamp)")
    times = [
        "2024-12-31 23:00:00",  # another period
        "2025-01-02 23:59:59.999999",
        "2025-01-03 00:00:00",  # day 3's first microsecond
        "2025-01-03 23:59:59.999999",  # day 3's last
        "2025-01-04 12:00:00",  # between the days checked
        "2025-01-10 10:00:00",
        "2025-02-01 00:00:00",  # another period
    ]
    con.executemany("insert into staging_gpu_samples values (?::timestamp)", [[t] for t in times])
    query = f"select strftime(ts, '%d %H:%M') from staging_gpu_samples where {samples_checked()} order by ts"

    def checked(days: list[date] | None) -> list[str]:
        return [day for (day,) in con.execute(query, {"period": PERIOD, "days": days}).fetchall()]

    assert checked([DAY_3, date(2025, 1, 10)]) == ["03 00:00", "03 23:59", "10 10:00"]
    assert checked([date(2025, 1, 10), DAY_3]) == ["03 00:00", "03 23:59", "10 10:00"]  # in any order
    assert checked(None) == ["02 23:59", "03 00:00", "03 23:59", "04 12:00", "10 10:00"]  # every day of January
    assert checked([]) == []


def test_no_gpu_day_checked_reads_no_sample(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """With no day whose GPU time changed, marts.gpu_efficiency's check reads no row group of the
    samples: 300,000 samples, one every 8 s from 1 January (3 row groups of at most 122,880 rows).
    With every day checked it reads all 3."""
    con.execute(
        "insert into staging.gpu_samples (load_id, row_number, metric, ts, step_seconds, hostname, gpu, value) "
        "select 'gpu-a', i, 'DCGM_FI_DEV_GPU_UTIL', timestamp '2025-01-01' + to_microseconds(i * 8_000_000), 60, "
        "'node-1', '0', 50 from range(300000) as t(i)"
    )
    con.execute("checkpoint")
    profile = tmp_path / "profile.json"
    con.execute("set enable_profiling = 'json'")
    con.execute("set profiling_mode = 'detailed'")
    con.execute(f"set profiling_output = '{profile}'")

    def row_groups_read(gpu_days: list[date] | None) -> int:
        con.execute(mart_query("gpu_efficiency"), {"period": PERIOD, "gpu_days": gpu_days}).fetchall()
        return int(json.loads(profile.read_text())["query"]["total_row_groups_scanned"])

    assert row_groups_read(None) == 3
    assert row_groups_read([]) == 0
