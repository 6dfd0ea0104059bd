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
from tests.factories import PEOPLE_HEADER, TWO_MODELS

runner = CliRunner()
CONFIG = TWO_MODELS
PEOPLE = PEOPLE_HEADER


def _workspace(tmp_path: Path, files: dict[str, str], *, labor: str = "[labor]\nk_anonymity = 3\n") -> Path:
    root = tmp_path / "ws"
    Workspace.init(root, config_text=CONFIG + labor)
    for name, text in files.items():
        (root / "inbox" / name).write_text(text)
    return root


def _cells(root: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def _ledger(root: Path, month: str, category: str) -> dict[str, Decimal]:
    rows = _cells(
        root,
        "select model_id, sum(effective_cost) from ledger.cost_ledger where billing_period = ? and category = ? group "
        "by 1",
        [month, category],
    )
    return {model: amount for model, amount in rows}


QUARTER = """
[labor]
k_anonymity = 3
rate_period = "quarter"
families = { "sre" = "engineering", "ml-engineer" = "engineering" }
"""
# Q1 2026 (Mon-Fri): January 22 working days, February 20, March 22 = 64.
# Fully loaded monthly cost (salary + benefits + taxes) and pay over Q1 / working days employed:
STAFF = (
    PEOPLE
    + "\n".join(
        [
            "A1,Al Able,ml-engineer,CC1,10000.00,600.00,400.00,USD,,",  # 11,000 x 3 = 33,000 / 64
            "A2,Bo Brown,ml-engineer,CC1,8800.00,0,0,USD,,",  # 26,400 / 64
            # joins: Feb 10 of 20 days 3,300 + 6,600 = 9,900 / 32
            "A3,Cy Crane,ml-engineer,CC1,6600.00,0,0,USD,2026-02-16,",
            "S1,Di Dove,sre,CC2,13200.00,0,0,USD,,",  # the only sre: 39,600 / 64
            "D1,Ed Egg,data-scientist,CC2,9900.00,0,0,USD,,",  # 29,700 / 64
            # leaves: 7,700 + Feb 10 of 20 days 3,850 = 11,550 / 32
            "D2,Fa Fox,data-scientist,CC2,7700.00,0,0,USD,,2026-02-13",
            "D3,Gu Gale,data-scientist,CC2,12100.00,0,0,USD,,",  # 36,300 / 64
        ]
    )
    + "\n"
)
FEBRUARY = (
    "month,person_id,model_id,percent\n"
    + "\n".join(
        [
            "2026-02,A1,m1,60",  # the other 40% is allocated to no model
            "2026-02,A2,m1,100",
            "2026-02,A3,m1,100",
            "2026-02,S1,m1,50",
            "2026-02,S1,m2,50",
            "2026-02,D1,m2,100",
            "2026-02,D2,m2,100",
            "2026-02,D3,m2,100",
        ]
    )
    + "\n"
)


def _restricted(root: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(root / "restricted" / "hr.duckdb"), read_only=True) as hr:
        return hr.execute(query).fetchall()


def test_standard_rates_cells_of_k_people_and_the_variance_by_hand(tmp_path):
    root = _workspace(tmp_path, {"labor/people.csv": STAFF, "labor/allocations.csv": FEBRUARY}, labor=QUARTER)
    run.run(root, month="2026-02")
    # Rate groups for 2026-Q1 (k = 3):
    # ml-engineer {A1, A2, A3}: (33,000 + 26,400 + 9,900) / (64 + 64 + 32) = 69,300 / 160 = 433.125 -> 433.12,
    #   no member's own rate (515.63, 412.50, 309.38): publishable on its own.
    # sre {S1}: 1 person -> its family, engineering = {A1, A2, A3, S1}: (69,300 + 39,600) / 224 = 486.1607 -> 486.16;
    #   {S1} alone is short of k, so the family folds in its smallest other band (ml-engineer): engineering, 4 people.
    # data-scientist {D1, D2, D3}: (29,700 + 11,550 + 36,300) / 160 = 484.6875 -> 484.69, 3 people (no family).
    rates = _cells(root, "select rate_period, role, headcount, rate from staging.labor_rates order by role")
    assert rates == [
        ("2026-Q1", "data-scientist", 3, Decimal("484.69")),
        ("2026-Q1", "engineering", 4, Decimal("486.16")),
    ]
    # February standard cost = working days employed x rate: A1, A2, S1 20 x 486.16 = 9,723.20;
    # A3 10 x 486.16 = 4,861.60;
    # D1, D3 20 x 484.69 = 9,693.80; D2 10 x 484.69 = 4,846.90. Split by the shares:
    # m1: A1 60% 5,833.92 + A2 9,723.20 + A3 4,861.60 + S1 50% 4,861.60 = 25,280.32, 12 + 20 + 10 + 10 = 52 person-days,
    #     4 engineering people: one cell of its own.
    # m2: S1 4,861.60 (engineering, 1 person: short of k) + D1 9,693.80 + D2 4,846.90 + D3 9,693.80 (data scientists, 3)
    #     -> the lone engineer merges into "all staff", which folds in the data scientists: 29,096.10, 60 person-days,
    #     4 people.
    # __unallocated__: only A1's 40% (3,889.28, 8 person-days): one person, withheld.
    cells = _cells(root, "select model_id, role, headcount, person_days, cost from staging.labor order by 1")
    assert cells == [
        ("m1", "engineering", 4, Decimal("52"), Decimal("25280.32")),
        ("m2", "all staff", 4, Decimal("60"), Decimal("29096.10")),
    ]
    assert _ledger(root, "2026-02", "labor") == {"m1": Decimal("25280.32"), "m2": Decimal("29096.10")}
    subcategories = {
        r[0] for r in _cells(root, "select distinct subcategory from ledger.cost_ledger where category = 'labor'")
    }
    assert subcategories == {"engineering", "all staff"}
    # HR cost: 11,000 + 8,800 + 3,300 + 13,200 + 9,900 + 3,850 + 12,100 = 62,150.00; standard 58,265.70;
    # allocated 25,280.32 + 29,096.10 = 54,376.42; withheld 3,889.28; variance 62,150 - 54,376.42 = 7,773.58
    variance = _restricted(
        root, "select hr_cost, standard_cost, allocated_cost, withheld_cost, variance from labor_variance"
    )
    assert variance == [
        (Decimal("62150"), Decimal("58265.70"), Decimal("54376.42"), Decimal("3889.28"), Decimal("7773.58"))
    ]
    # allocated + variance = HR cost, checked in the restricted database: the verdict is all that is published (one
    # currency); every published figure stands for at least k people: 2 cells, 2 rates, 2 (model, cell) of ledger rows
    checks = _cells(
        root, "select suite, success, observed from meta.check_results where suite like 'labor%' order by 1"
    )
    assert checks == [
        ("labor_conservation", True, "0 of 1 rows unexpected"),
        ("labor_privacy", True, "0 of 6 rows unexpected"),
    ]
    tables = {r[0] for r in _cells(root, "select table_name from duckdb_tables() where schema_name = 'staging'")}
    assert "labor" in tables and "labor_totals" not in tables


def test_rates_stay_fixed_when_hr_files_are_restated(tmp_path):
    root = _workspace(tmp_path, {"labor/people.csv": STAFF, "labor/allocations.csv": FEBRUARY}, labor=QUARTER)
    run.run(root, month="2026-02")
    before = _cells(root, "select role, headcount, rate from staging.labor_rates order by 1")
    # restated: A2's pay was 9,900.00, not 8,800.00; a new ml-engineer joins on March 3 (12,000.00); March allocations
    restated = STAFF.replace("A2,Bo Brown,ml-engineer,CC1,8800.00", "A2,Bo Brown,ml-engineer,CC1,9900.00")
    restated += "N1,Ny New,ml-engineer,CC1,12000.00,0,0,USD,2026-03-03,\n"
    march = FEBRUARY + "2026-03,A1,m1,100\n2026-03,A2,m1,100\n2026-03,A3,m1,100\n2026-03,N1,m1,100\n"
    (root / "inbox" / "labor" / "people.csv").write_text(restated)
    (root / "inbox" / "labor" / "allocations.csv").write_text(march)
    run.run(root, month="2026-03")
    # the quarter's rates were set by the first run and do not move (neither the restatement nor the joiner)
    assert _cells(root, "select role, headcount, rate from staging.labor_rates order by 1") == before
    # March: A1, A2, A3 22 days, N1 21 days (Mar 3-31) on m1, all engineering at 486.16: 87 x 486.16 = 42,295.92;
    # S1, D1, D3 have no March allocation (D2 has left): unallocated, 3 people: 22 x (486.16 + 484.69 x 2) = 32,021.88
    assert _ledger(root, "2026-03", "labor") == {"m1": Decimal("42295.92"), "__unallocated__": Decimal("32021.88")}
    # February's HR cost rose by A2's 1,100.00: 63,250.00; its allocation did not move, so the variance took it all
    february = _restricted(root, "select hr_cost, allocated_cost, variance from labor_variance where month = '2026-02'")
    assert february == [(Decimal("63250"), Decimal("54376.42"), Decimal("8873.58"))]
    # a new rate policy (k = 2) rates the quarter again, from the people file as it now stands: engineering gains N1
    # (March: 12,000.00 over 22 days, 21 of them employed = 11,454.545454545454545454) and A2's restated 29,700:
    # (33,000 + 29,700 + 9,900 + 39,600 + 11,454.545...) / (64 + 64 + 32 + 64 + 21) = 123,654.5454... / 245
    # = 504.7124 -> 504.71
    config = (root / "costledger.toml").read_text().replace("k_anonymity = 3", "k_anonymity = 2")
    (root / "costledger.toml").write_text(config)
    run.run(root, month="2026-03")
    rates = _cells(root, "select role, headcount, rate from staging.labor_rates order by 1")
    assert rates == [("data-scientist", 3, Decimal("484.69")), ("engineering", 5, Decimal("504.71"))]


def test_a_step_run_alone_after_a_new_ddl_version_sees_staging_labor_whole(tmp_path):
    root = _workspace(tmp_path, {"labor/people.csv": STAFF, "labor/allocations.csv": FEBRUARY}, labor=QUARTER)
    run.run(root, month="2026-02")
    labor = "select (select count(*) from staging.labor), (select count(*) from staging.labor_rates)"
    # as in the first test: 2 cells (m1 engineering, m2 all staff) and 2 rates of 2026-Q1 (data-scientist, engineering)
    assert _cells(root, labor) == [(2, 2)]

    def new_ddl_version() -> None:  # the next connect runs every sql/ file again: `create or replace` empties both
        with duckdb.connect(str(root / "warehouse.duckdb")) as con:
            con.execute("update meta.schema_digest set digest = 'an earlier version'")

    new_ddl_version()
    run.validate(root, "2026-02")  # no ingest first; with staging.labor empty the labor privacy check failed
    assert _cells(root, labor) == [(2, 2)]
    checks = _cells(root, "select suite, success from meta.check_results where suite like 'labor%' order by 1")
    assert checks == [("labor_conservation", True), ("labor_privacy", True)]
    new_ddl_version()
    run.build(root, "2026-02")  # else built without labor rows
    assert _cells(root, labor) == [(2, 2)]
    candidate = _cells(
        root,
        "select model_id, sum(effective_cost) from ledger.cost_ledger_candidate "
        "where billing_period = '2026-02' and category = 'labor' group by 1 order by 1",
    )
    assert candidate == [("m1", Decimal("25280.32")), ("m2", Decimal("29096.10"))]


def test_timesheet_hours_at_standard_rates_and_training_in_the_variance(tmp_path):
    people = (
        PEOPLE
        + "\n".join(
            [
                "B1,Bea Bold,data-engineer,CC9,8000.00,0,0,USD,,",  # Q1: 24,000 / 64 days = 375.00 a day
                "B2,Cal Cole,data-engineer,CC9,8800.00,0,0,USD,,",  # 26,400 / 64 = 412.50
                "B3,Dee Dunn,data-engineer,CC9,10000.00,0,0,USD,,",  # 30,000 / 64 = 468.75
            ]
        )
        + "\n"
    )
    timesheets = (
        "date,person_id,project,task,hours,cost_rate,cost_amount,currency\n"
        + "\n".join(
            [
                "2026-01-05,B1,P1,build,30,,,USD",  # 30 h on P1 (-> m1) of 40 h: 3/4
                "2026-01-06,B1,P2,ops,10,,,USD",  # 10 h on P2, which maps to no model: 1/4 unallocated
                "2026-01-05,B2,P1,build,8,,,USD",  # all of B2's hours on m1
                "2026-01-05,B3,P1,build,20,,,USD",  # half on m1, half unallocated
                "2026-01-06,B3,P2,ops,20,,,USD",
            ]
        )
        + "\n"
    )
    projects = "project,model_id\nP1,m1\n"
    training = "date,person_id,cost_centre,amount,currency,description\n2026-01-15,,CC9,600.00,USD,course\n"
    files = {
        "labor/people.csv": people,
        "labor/timesheets.csv": timesheets,
        "labor/projects.csv": projects,
        "labor/training.csv": training,
    }
    root = _workspace(tmp_path, files, labor=QUARTER)
    run.run(root, month="2026-01")
    # one band of 3: (24,000 + 26,400 + 30,000) / 192 = 418.75 a day, nobody's own rate
    rates = _cells(root, "select role, headcount, rate from staging.labor_rates")
    assert rates == [("data-engineer", 3, Decimal("418.75"))]
    # January: 22 days x 418.75 = 9,212.50 each. m1: B1 3/4 6,909.375 + B2 9,212.50 + B3 1/2 4,606.25 = 20,728.125
    # (16.5 + 22 + 11 = 49.5 person-days, 3 people); unallocated: B1 and B3 only, 2 people: withheld.
    assert _cells(root, "select model_id, role, headcount, person_days, cost from staging.labor") == [
        ("m1", "data-engineer", 3, Decimal("49.5"), Decimal("20728.125"))
    ]
    assert _ledger(root, "2026-01", "labor") == {"m1": Decimal("20728.125")}
    # training (600.00 for CC9, 200.00 each) is actual cost of people: in the HR cost and so the variance, no model's:
    # HR 8,000 + 8,800 + 10,000 + 600 = 27,400.00; variance 27,400 - 20,728.125 = 6,671.875
    variance = _restricted(root, "select hr_cost, variance from labor_variance")
    assert variance == [(Decimal("27400"), Decimal("6671.875"))]
    assert _cells(root, "select count(*) from ledger.cost_ledger where subcategory = 'training'") == [(0,)]


def test_annual_licence_and_an_invoice_spanning_two_months(tmp_path):
    licences = (
        "licence_id,vendor,product,term_start,term_end,billing,amount,currency,seats,seats_by_model\n"
        "L1,Acme,index,2026-01-01,2026-12-31,term,3650.00,USD,4,m1=3\n"
    )
    invoices = (
        "invoice_id,vendor,category,subcategory,service_start,service_end,amount,currency,model_id,description\n"
        "INV1,LabelCo,data,labelling,2026-01-20,2026-02-17,580.00,USD,m2,labels\n"
    )
    root = _workspace(tmp_path, {"charges/licences.csv": licences, "charges/invoices.csv": invoices})
    run.run(root, month="2026-01")
    # licence: 3,650.00 / 365 days = 10.00 a day; 3 of 4 seats on m1: 7.50 a day x 31 = 232.50,
    # the unassigned seat 2.50 x 31 = 77.50 (__unallocated__, unassigned_seats).
    assert _ledger(root, "2026-01", "software") == {"m1": Decimal("232.5"), "__unallocated__": Decimal("77.5")}
    # the invoice: 580.00 over Jan 20 - Feb 17 (29 days) = 20.00 a day: Jan 12 days = 240.00,
    # Feb 17 days = 340.00; loading it touched both months, so both were built.
    assert _ledger(root, "2026-01", "data") == {"m2": Decimal("240")}
    assert _ledger(root, "2026-02", "data") == {"m2": Decimal("340")}
    reasons = _cells(
        root, "select distinct unallocated_reason from ledger.cost_ledger where model_id = '__unallocated__'"
    )
    assert reasons == [("unassigned_seats",)]


def test_milestone_delivered_late(tmp_path):
    milestones = (
        "model_id,milestone,planned_date,actual_date,cost_of_delay_per_day,currency,started_date\n"
        "m1,launch,2026-01-10,2026-01-13,100.00,USD,2025-12-01\n"
    )
    root = _workspace(tmp_path, {"milestones/m.csv": milestones})
    run.run(root, month="2026-01")
    # late on Jan 11, 12 and 13: 3 x 100.00 of opportunity cost: no effective (cash) cost, 300.00
    # of economic cost, nothing billed
    assert _ledger(root, "2026-01", "time") == {"m1": Decimal("0")}
    assert _cells(
        root,
        "select cost_basis, sum(billed_cost), sum(economic_cost) from ledger.cost_ledger "
        "where category = 'time' group by 1",
    ) == [("opportunity", Decimal("0"), Decimal("300"))]
    # time to deploy: 2025-12-01 -> 2026-01-13 = 43 days
    assert _cells(root, "select status, days_late, time_to_deploy_days, delay_cost from marts.milestones") == [
        ("delivered", 3, 43, Decimal("300"))
    ]


def test_milestone_cancelled_stops_its_delay(tmp_path):
    milestones = (
        "model_id,milestone,planned_date,actual_date,cost_of_delay_per_day,currency,started_date,cancelled_date\n"
        "m1,launch,2026-01-10,,100.00,USD,2025-12-01,2026-01-14\n"
    )
    root = _workspace(tmp_path, {"milestones/m.csv": milestones})
    run.run(root, month="2026-01")
    # never delivered, cancelled on Jan 14: late on Jan 11, 12 and 13 only (not to the run date,
    # Jan 31 or later, which an open milestone would reach): 3 x 100.00 = 300.00 of economic cost
    assert _cells(
        root,
        "select min(charge_date)::varchar, max(charge_date)::varchar, sum(economic_cost), sum(effective_cost) "
        "from ledger.cost_ledger where category = 'time'",
    ) == [("2026-01-11", "2026-01-13", Decimal("300"), Decimal("0"))]
    assert _cells(root, "select status, days_late, delay_cost from marts.milestones") == [
        ("cancelled", 3, Decimal("300"))
    ]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "allocations.csv",
            "month,person_id,model_id,percent\n2026-01,A1,m1,70\n2026-01,A1,m2,50\n",
            ["allocated 120%", "2026-01", "row 1"],
        ),
        (
            "allocations.csv",
            "month,person_id,model_id,percent\n2026-01,A1,m1,50\n2026-01,A1,ghost,10\n",
            ["row 2", "model_id", "registered"],
        ),
        (
            "people.csv",
            PEOPLE + "A1,Al,sre,C,5000.00,0,0,USD,,\nA2,Bo,sre,C,-1.00,0,0,USD,,\n",
            ["row 2", "monthly_salary", "0 or more"],
        ),
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
    from pipeline.generators.demo import generate_estate

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
