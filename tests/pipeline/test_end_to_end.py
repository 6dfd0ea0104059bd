"""The whole pipeline on the generated estate, against the truth the generator planted."""

from __future__ import annotations

import csv
import hashlib
from decimal import Decimal

import duckdb
import pytest

from pipeline import run
from tests.conftest import read_warehouse

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
        rows = con.execute(
            "select * from ledger.cost_ledger where billing_period = ? order by all", [period]
        ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_ledger_equals_generated_truth_exactly(demo_estate):
    with (demo_estate.root / "truth.csv").open() as handle:
        truth = {
            (r["month"], r["model_id"], r["category"]): (Decimal(r["billed_cost"]), Decimal(r["effective_cost"]))
            for r in csv.DictReader(handle)
        }
    ledger = _ledger_cells(demo_estate.root / "warehouse.duckdb")
    zero = (Decimal(0), Decimal(0))
    differences = {
        k: (ledger.get(k, zero), truth.get(k, zero))
        for k in set(ledger) | set(truth)
        if ledger.get(k, zero) != truth.get(k, zero)
    }
    assert differences == {}
    # the estate has six categories, three months and every bucket the generator planted
    assert {k[2] for k in truth} == {"hardware", "software", "data", "labor", "operational", "time"}
    assert {"__idle__", "__unallocated__", "__shared__"} <= {k[1] for k in truth}
    # spot check by hand: the delay cost is 9 days late (Feb 11..19) x 2000.00 = 18000.00, opportunity
    # cost: no billed or effective (cash) cost, 18000.00 of economic cost
    assert ledger[("2026-02", "rec-ranker-llm", "time")] == (Decimal("0"), Decimal("0"))
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        delay = con.execute(
            "select cost_basis, sum(economic_cost) from ledger.cost_ledger where billing_period = '2026-02' "
            "and model_id = 'rec-ranker-llm' and category = 'time' group by all"
        ).fetchall()
    assert delay == [("opportunity", Decimal("18000"))]


def test_billing_reconciles_to_the_source_exactly(demo_estate):
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select billing_period, provider, currency, billed_difference, effective_difference, source_billed from "
            "marts.billing_reconciliation"
        ).fetchall()
    assert len(rows) == 6  # 3 months x (AWS in USD, Microsoft in EUR)
    assert all(r[3] == 0 and r[4] == 0 for r in rows)
    # Azure January by hand: (96.00 + 8.00) a day x 31 days = 3224.00 EUR
    assert [r[5] for r in rows if r[0] == "2026-01" and r[1] == "Microsoft"] == [Decimal("3224")]


def test_every_load_balances_and_nothing_is_quarantined(demo_estate):
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        unbalanced = con.execute(
            "select count(*) from meta.loads where rows_in <> rows_loaded + rows_quarantined"
        ).fetchone()[0]
        quarantined = con.execute("select count(*) from meta.quarantine").fetchone()[0]
        statuses = dict(con.execute("select status, count(*) from meta.loads group by 1").fetchall())
    assert unbalanced == 0 and quarantined == 0
    # 6 billing + 180 telemetry + 5 labor (people, allocations, timesheets, projects, training)
    # + assets, 2 charges (invoices, licences), usage, optimizations, milestones, fx, budgets = 199
    assert statuses == {"loaded": 199}


def test_rerunning_a_month_gives_a_byte_identical_ledger(demo_estate):
    path = demo_estate.root / "warehouse.duckdb"
    before = _checksum(path, "2026-02")
    run.run(demo_estate.root, date=demo_estate.as_of, month="2026-02")
    assert _checksum(path, "2026-02") == before
    with duckdb.connect(str(path), read_only=True) as con:
        # nothing was loaded twice: the second ingest found only known files
        assert con.execute("select count(*) from meta.loads").fetchone()[0] == 199


def test_no_individual_pay_or_name_in_the_shared_warehouse(demo_estate):
    with (demo_estate.root / "inbox" / "labor" / "people.csv").open() as handle:
        people = list(csv.DictReader(handle))
    data = (demo_estate.root / "warehouse.duckdb").read_bytes()
    for person in people:
        for secret in (person["person_id"], person["name"]):
            assert secret.encode() not in data, secret
    pay = {Decimal(p["monthly_salary"]) + Decimal(p["benefits"]) + Decimal(p["employer_taxes"]) for p in people}
    with read_warehouse(demo_estate.root) as con:
        assert con.execute("select count(*) from raw.source_rows where source = 'labor'").fetchone()[0] == 0
        groups = con.execute("select role, headcount, cost from staging.labor").fetchall()
        rates = con.execute("select role, headcount, rate from staging.labor_rates order by role").fetchall()
    # every cell and every rate stands for at least k = 3 people (tests/ingest/test_labor_privacy.py plays the attacks)
    assert groups and all(headcount >= 3 for _, headcount, _ in groups)
    assert not any(cost in pay for _, _, cost in groups)
    # the generator's own rates (pipeline.generators.labor): the two data engineers merge into their
    # family with the three sres; the ml-engineers (the joiner included) and data scientists are bands
    assert [(role, n) for role, n, _ in rates] == [("data-scientist", 4), ("engineering", 5), ("ml-engineer", 7)]
    assert {role: rate for role, _, rate in rates} == {group: rate for (_, group), rate in demo_estate.rates.items()}


def test_mig_slices_and_time_sliced_pods_get_their_known_share_of_a_node_hour(demo_estate):
    # gpu-node-3, 2026-02-03 10:00-11:00, effective 5.60 (covered by the savings plan), in 1/14 GPUs:
    # GPU 0 MIG (of 7): 3g rec-retrieval 6/14, 2g embeddings 4/14, 1g idle 2/14, unconfigured 2/14 idle;
    # GPU 1 time-sliced by embeddings and rec-retrieval: 7/14 each; GPUs 2 and 3 idle: 28/14.
    # rec-retrieval 13, embeddings 11, idle 32 of 56: 5.60 x 13/56 = 1.30, x 11/56 = 1.10, x 32/56 = 3.20
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select l.model_id, sum(l.effective_cost), sum(l.quantity) from ledger.cost_ledger l "
            "join staging.billing b on l.source_ref = b.load_id || ':' || b.row_number "
            "where b.ResourceName = 'gpu-node-3' and b.ChargePeriodStart = timestamp '2026-02-03 10:00:00' group by all"
        ).fetchall()
    got = {model: (cost, hours) for model, cost, hours in rows}
    assert {m: c for m, (c, _) in got.items()} == {
        "rec-retrieval": Decimal("1.30"),
        "embeddings": Decimal("1.10"),
        "__idle__": Decimal("3.20"),
    }
    # GPU-hours: rec-retrieval 13/14, embeddings 11/14, idle 32/14 (quantity has 9 decimals)
    assert got["rec-retrieval"][1] == Decimal("0.928571428")


def test_gpu_efficiency_mart_adds_up_to_the_gpu_ledger_rows(demo_estate):
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        pools = {r[0] for r in con.execute("select distinct pool from marts.gpu_efficiency").fetchall()}
        mart = con.execute(
            "select sum(cost) from marts.gpu_efficiency where strftime(charge_date, '%Y-%m') = '2026-02'"
        ).fetchone()[0]
        ledger = con.execute(
            "select sum(effective_cost) from ledger.cost_ledger where strftime(charge_date, '%Y-%m') = '2026-02' "
            "and ((source = 'billing' and quantity_unit = 'GPU-hours') or source in ('assets', 'energy'))"
        ).fetchone()[0]
        # gpu-node-3 on 2026-02-03: 24 node-hours of 4 GPUs = 96 GPU-hours, split exactly
        node3 = con.execute(
            "select sum(gpu_hours) from marts.gpu_efficiency where pool = 'eks-gpu' and charge_date = date '2026-02-03'"
        ).fetchone()[0]
    assert pools == {"eks-gpu", "owned"}
    assert mart == ledger
    # three pool nodes of 4 GPUs every hour = 288 GPU-hours; each row's GPU-hours are truncated to
    # 9 decimals (gpu-node-3's 13/14, 11/14, 32/14 lose up to 3e-9 an hour)
    assert Decimal(288) - Decimal("0.0000001") < node3 <= 288
