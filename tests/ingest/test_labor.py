"""Labor, data, software and time costs: hand-worked examples, conservation, privacy, bad inputs."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import run
from pipeline.cli import app
from pipeline.workspace import Workspace

runner = CliRunner()
CONFIG = """
reporting_currency = "USD"
[[models]]
id = "m1"
name = "Model one"
[[models]]
id = "m2"
name = "Model two"
[labor]
k_anonymity = 3
"""
PEOPLE = "person_id,name,role,cost_centre,monthly_salary,benefits,employer_taxes,currency,start_date,end_date\n"


def _workspace(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ws"
    Workspace.init(root, config_text=CONFIG)
    for name, text in files.items():
        (root / "inbox" / name).write_text(text)
    return root


def _cells(root: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def _ledger(root: Path, month: str, category: str) -> dict[str, Decimal]:
    rows = _cells(root, "select model_id, sum(effective_cost) from ledger.cost_ledger where billing_period = ? and category = ? group by 1", [month, category])
    return {model: amount for model, amount in rows}


def test_part_time_allocation_mid_month_joiner_and_k_anonymity(tmp_path):
    people = PEOPLE + "\n".join([
        # fully loaded = salary + benefits + taxes
        "A1,Alice Able,ml-engineer,CC1,8000.00,1200.00,800.00,USD,,",  # 10,000.00
        "A2,Bob Brown,ml-engineer,CC1,4000.00,0,0,USD,,",  # 4,000.00
        "A3,Cy Crane,ml-engineer,CC1,4000.00,0,0,USD,2026-02-16,",  # joins mid-February
        "A4,Di Dove,sre,CC2,6000.00,0,0,USD,,",  # 6,000.00
    ]) + "\n"
    allocations = "month,person_id,model_id,percent\n" + "\n".join([
        "2026-02,A1,m1,60",  # part-time on m1: 60% -> 6,000.00; the other 40% (4,000.00) is unallocated
        "2026-02,A2,m1,100",
        "2026-02,A3,m1,100",
        "2026-02,A4,m1,50",
        "2026-02,A4,m2,50",
    ]) + "\n"
    root = _workspace(tmp_path, {"labor/people.csv": people, "labor/allocations.csv": allocations})
    run.run(root, month="2026-02")
    # Feb 2026 has 20 working days (Mon-Fri); the joiner works Feb 16-27: 10 of them.
    # 4,000.00 / 20 = 200.00 a day x 10 = 2,000.00.
    # m1 = 6,000.00 (A1) + 4,000.00 (A2) + 2,000.00 (A3) + 3,000.00 (A4) = 15,000.00; m2 = 3,000.00
    assert _ledger(root, "2026-02", "labor") == {"m1": Decimal("15000"), "m2": Decimal("3000"), "__unallocated__": Decimal("4000")}
    # the HR total: 10,000 + 4,000 + 2,000 + 6,000 = 22,000.00 = allocated + unallocated
    assert _cells(root, "select cost from staging.labor_totals") == [(Decimal("22000"),)]
    # k = 3: m1 has three ml-engineers (own row) and one sre (merged into "other roles");
    # m2 and __unallocated__ have one person each: "other roles" too.
    groups = _cells(root, "select model_id, role, headcount from staging.labor order by 1, 2")
    assert groups == [("__unallocated__", "other roles", 1), ("m1", "ml-engineer", 3), ("m1", "other roles", 1), ("m2", "other roles", 1)]
    subcategories = {r[0] for r in _cells(root, "select distinct subcategory from ledger.cost_ledger where category = 'labor'")}
    assert subcategories == {"ml-engineer", "other roles"}


def test_timesheet_hours_and_team_training(tmp_path):
    people = PEOPLE + "B1,Bea Bold,data-engineer,CC9,8000.00,0,0,USD,,\nB2,Cal Cole,data-engineer,CC9,8000.00,0,0,USD,,\n"
    timesheets = "date,person_id,project,task,hours,cost_rate,cost_amount,currency\n" + "\n".join([
        "2026-01-05,B1,P1,build,30,,,USD",  # 30 h on P1 (-> m1) of 40 h: 3/4
        "2026-01-06,B1,P2,ops,10,,,USD",  # 10 h on P2, which maps to no model: 1/4 unallocated
        "2026-01-05,B2,P1,build,8,,,USD",  # all of B2's hours on m1
    ]) + "\n"
    projects = "project,model_id\nP1,m1\n"
    training = "date,person_id,cost_centre,amount,currency,description\n2026-01-15,,CC9,600.00,USD,course\n"
    root = _workspace(tmp_path, {"labor/people.csv": people, "labor/timesheets.csv": timesheets, "labor/projects.csv": projects, "labor/training.csv": training})
    run.run(root, month="2026-01")
    # pay: B1 8,000 x 3/4 = 6,000 to m1, 2,000 unallocated; B2 8,000 to m1.
    # training: 600.00 for CC9 split over its 2 people = 300.00 each, with the same shares:
    # B1 225.00 m1 + 75.00 unallocated; B2 300.00 m1.
    assert _ledger(root, "2026-01", "labor") == {"m1": Decimal("14525"), "__unallocated__": Decimal("2075")}
    training_rows = _cells(root, "select sum(effective_cost) from ledger.cost_ledger where subcategory = 'training'")
    assert training_rows == [(Decimal("600"),)]


def test_annual_licence_and_an_invoice_spanning_two_months(tmp_path):
    licences = "licence_id,vendor,product,term_start,term_end,billing,amount,currency,seats,seats_by_model\n" \
               "L1,Acme,index,2026-01-01,2026-12-31,term,3650.00,USD,4,m1=3\n"
    invoices = "invoice_id,vendor,category,subcategory,service_start,service_end,amount,currency,model_id,description\n" \
               "INV1,LabelCo,data,labelling,2026-01-20,2026-02-17,580.00,USD,m2,labels\n"
    root = _workspace(tmp_path, {"charges/licences.csv": licences, "charges/invoices.csv": invoices})
    run.run(root, month="2026-01")
    # licence: 3,650.00 / 365 days = 10.00 a day; 3 of 4 seats on m1: 7.50 a day x 31 = 232.50,
    # the unassigned seat 2.50 x 31 = 77.50 (__unallocated__, unassigned_seats).
    assert _ledger(root, "2026-01", "software") == {"m1": Decimal("232.5"), "__unallocated__": Decimal("77.5")}
    # the invoice: 580.00 over Jan 20 - Feb 17 (29 days) = 20.00 a day: Jan 12 days = 240.00,
    # Feb 17 days = 340.00; loading it touched both months, so both were built.
    assert _ledger(root, "2026-01", "data") == {"m2": Decimal("240")}
    assert _ledger(root, "2026-02", "data") == {"m2": Decimal("340")}
    reasons = _cells(root, "select distinct unallocated_reason from ledger.cost_ledger where model_id = '__unallocated__'")
    assert reasons == [("unassigned_seats",)]


def test_milestone_delivered_late(tmp_path):
    milestones = "model_id,milestone,planned_date,actual_date,cost_of_delay_per_day,currency,started_date\n" \
                 "m1,launch,2026-01-10,2026-01-13,100.00,USD,2025-12-01\n"
    root = _workspace(tmp_path, {"milestones/m.csv": milestones})
    run.run(root, month="2026-01")
    # late on Jan 11, 12 and 13: 3 x 100.00
    assert _ledger(root, "2026-01", "time") == {"m1": Decimal("300")}
    # time to deploy: 2025-12-01 -> 2026-01-13 = 43 days
    assert _cells(root, "select status, days_late, time_to_deploy_days, delay_cost from marts.milestones") == [("delivered", 3, 43, Decimal("300"))]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("allocations.csv", "month,person_id,model_id,percent\n2026-01,A1,m1,70\n2026-01,A1,m2,50\n", ["allocated 120%", "2026-01", "row 1"]),
        ("allocations.csv", "month,person_id,model_id,percent\n2026-01,A1,m1,50\n2026-01,A1,ghost,10\n", ["row 2", "model_id", "registered"]),
        ("people.csv", PEOPLE + "A1,Al,sre,C,5000.00,0,0,USD,,\nA2,Bo,sre,C,-1.00,0,0,USD,,\n", ["row 2", "monthly_salary", "0 or more"]),
    ],
)
def test_bad_hr_files_exit_2_and_load_nothing_of_that_file(tmp_path, name, text, words):
    root = _workspace(tmp_path, {f"labor/{name}": text})
    result = runner.invoke(app, ["run", "-w", str(root), "--month", "2026-01"])
    assert result.exit_code == 2
    for word in [f"labor/{name}", *words]:
        assert word in result.output, (word, result.output)
    assert _cells(root, "select status from meta.loads") == [("rejected",)]
    restricted = root / "restricted" / "hr.duckdb"
    if restricted.exists():  # nothing of the file reached the restricted database either
        with duckdb.connect(str(restricted), read_only=True) as hr:
            assert hr.execute("select count(*) from source_rows").fetchone() == (0,)


def test_a_missing_pseudonym_key_exits_2_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("COSTLEDGER_PSEUDONYM_KEY")
    root = _workspace(tmp_path, {"labor/people.csv": PEOPLE + "A1,Al,sre,C,5000.00,0,0,USD,,\n"})
    result = runner.invoke(app, ["run", "-w", str(root), "--month", "2026-01"])
    assert result.exit_code == 2
    assert "labor/people.csv" in result.output and "COSTLEDGER_PSEUDONYM_KEY" in result.output


def test_the_restricted_database_is_owner_only(demo_estate):
    restricted = demo_estate.root / "restricted" / "hr.duckdb"
    assert restricted.stat().st_mode & 0o777 == 0o600
    assert restricted.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.slow
def test_no_name_id_or_pay_in_the_warehouse_reports_or_logs(tmp_path, caplog):
    from pipeline.generator import generate_estate

    caplog.set_level(logging.DEBUG)
    estate = generate_estate(tmp_path / "ws", seed=11)
    result = runner.invoke(app, ["demo", "-w", str(estate.root), "--seed", "11"])
    assert result.exit_code == 0, result.output
    secrets = []
    for line in (estate.root / "inbox" / "labor" / "people.csv").read_text().splitlines()[1:]:
        person_id, name, _, _, salary, benefits, taxes, *_ = line.split(",")
        loaded = Decimal(salary) + Decimal(benefits) + Decimal(taxes)
        secrets += [person_id, name, salary, f"{Decimal(salary):,}", str(loaded), f"{loaded:,}"]
    files = [estate.root / "warehouse.duckdb", *sorted((estate.root / "reports").rglob("*.*"))]
    assert len(files) > 4
    texts = {str(f): f.read_bytes() for f in files}
    texts["logs"] = (caplog.text + result.output).encode()
    for secret in secrets:
        for where, data in texts.items():
            assert secret.encode() not in data, (secret, where)
