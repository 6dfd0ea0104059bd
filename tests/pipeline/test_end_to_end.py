"""The whole pipeline on the generated estate, against the truth the generator planted."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from pipeline import run

pytestmark = pytest.mark.slow


def _ledger_cells(path) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.sql(
            "select strftime(charge_date, '%Y-%m') as month, model_id, category, sum(billed_cost), sum(effective_cost) "
            "from ledger.cost_ledger group by all"
        ).fetchall()
    return {(m, model, cat): (b, e) for m, model, cat, b, e in rows}


def _checksum(path, period: str) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select * from ledger.cost_ledger where billing_period = ? order by all", [period]).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_ledger_equals_generated_truth_exactly(demo_estate):
    with (demo_estate.root / "truth.csv").open() as handle:
        truth = {(r["month"], r["model_id"], r["category"]): (Decimal(r["billed_cost"]), Decimal(r["effective_cost"])) for r in csv.DictReader(handle)}
    ledger = _ledger_cells(demo_estate.root / "warehouse.duckdb")
    zero = (Decimal(0), Decimal(0))
    differences = {k: (ledger.get(k, zero), truth.get(k, zero)) for k in set(ledger) | set(truth) if ledger.get(k, zero) != truth.get(k, zero)}
    assert differences == {}
    # the estate has six categories, three months and every bucket the generator planted
    assert {k[2] for k in truth} == {"hardware", "software", "data", "labor", "operational", "time"}
    assert {"__idle__", "__unallocated__", "__shared__"} <= {k[1] for k in truth}
    # spot check by hand: the delay cost is 9 days late (Feb 11..19) x 2000.00 = 18000.00
    assert ledger[("2026-02", "rec-ranker-llm", "time")] == (Decimal("18000"), Decimal("18000"))


def test_billing_reconciles_to_the_source_exactly(demo_estate):
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select billing_period, provider, currency, billed_difference, effective_difference, source_billed from marts.billing_reconciliation").fetchall()
    assert len(rows) == 6  # 3 months x (AWS in USD, Microsoft in EUR)
    assert all(r[3] == 0 and r[4] == 0 for r in rows)
    # Azure January by hand: (96.00 + 8.00) a day x 31 days = 3224.00 EUR
    assert [r[5] for r in rows if r[0] == "2026-01" and r[1] == "Microsoft"] == [Decimal("3224")]


def test_every_load_balances_and_nothing_is_quarantined(demo_estate):
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        unbalanced = con.execute("select count(*) from meta.loads where rows_in <> rows_loaded + rows_quarantined").fetchone()[0]
        quarantined = con.execute("select count(*) from meta.quarantine").fetchone()[0]
        statuses = dict(con.execute("select status, count(*) from meta.loads group by 1").fetchall())
    assert unbalanced == 0 and quarantined == 0
    # 6 billing + 180 telemetry + 2 labor + assets, charges, usage, optimizations, milestones, fx
    assert statuses == {"loaded": 194}


def test_rerunning_a_month_gives_a_byte_identical_ledger(demo_estate):
    path = demo_estate.root / "warehouse.duckdb"
    before = _checksum(path, "2026-02")
    run.run(demo_estate.root, date=date(2026, 3, 28), month="2026-02")
    assert _checksum(path, "2026-02") == before
    with duckdb.connect(str(path), read_only=True) as con:
        # nothing was loaded twice: the second ingest found only known files
        assert con.execute("select count(*) from meta.loads").fetchone()[0] == 194


def test_no_individual_pay_or_name_in_the_shared_warehouse(demo_estate):
    with (demo_estate.root / "inbox" / "labor" / "people.csv").open() as handle:
        people = list(csv.DictReader(handle))
    data = (demo_estate.root / "warehouse.duckdb").read_bytes()
    for person in people:
        for secret in (person["person_id"], person["name"]):
            assert secret.encode() not in data, secret
    pay = {Decimal(p["monthly_cost"]) for p in people}
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.source_rows where source = 'labor'").fetchone()[0] == 0
        groups = con.execute("select role, headcount, cost from staging.labor").fetchall()
    # every named role group has at least k = 3 people; smaller ones are merged into "other roles"
    assert all(headcount >= 3 for role, headcount, _ in groups if role != "other roles")
    assert not any(cost in pay for _, _, cost in groups)
