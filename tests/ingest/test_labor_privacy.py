"""No individual's pay can be read or worked out from what `costledger sql` shows.

Two attacks an analyst would try, on a hand-built estate (a mid-February joiner, a mid-February
leaver, a role held by one person) and on the demo estate:
1. a small group: a labor figure built from fewer than k people, scaled up to a month
   (cost x working days / person-days);
2. differences: one readable figure minus another (month to month, model to model, role to role,
   a total minus the sum of its parts) equal to one person's monthly pay.
The test reads every table and view of every schema through the connection `costledger sql` uses
(read-only, no file access), keeps every row that involves labor, adds the sums an analyst would
form, and looks for each person's pay (which it knows from its own inputs) among the figures and
among the differences of any two of them."""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import run
from pipeline.cli import app
from pipeline.warehouse import connect_read_only
from pipeline.workspace import Workspace
from tests.factories import PEOPLE_HEADER, TWO_MODELS

runner = CliRunner()
K = 3
CENT = Decimal("0.01")
CONFIG = (
    TWO_MODELS
    + """\
[labor]
k_anonymity = 3
rate_period = "quarter"
families = { "sre" = "engineering", "ml-engineer" = "engineering" }
"""
)
HEADER = PEOPLE_HEADER
PEOPLE = (
    HEADER
    + "\n".join(
        [
            "A1,Al Able,ml-engineer,CC1,10000.00,600.00,400.00,USD,,",
            "A2,Bo Brown,ml-engineer,CC1,8800.00,0,0,USD,,",
            "A3,Cy Crane,ml-engineer,CC1,6600.00,0,0,USD,2026-02-16,",  # the joiner
            "S1,Di Dove,sre,CC2,13200.00,0,0,USD,,",  # the only sre
            "D1,Ed Egg,data-scientist,CC2,9900.00,0,0,USD,,",
            "D2,Fa Fox,data-scientist,CC2,7700.00,0,0,USD,,2026-03-13",  # the leaver
            "D3,Gu Gale,data-scientist,CC2,12100.00,0,0,USD,,",
        ]
    )
    + "\n"
)
# Fully loaded monthly cost, and what each person costs in each month employed (the joiner: 10 of
# February's 20 working days = 3,300.00; the leaver: March 2-13, 10 of 22 working days = 3,500.00).
MONTHLY = {"A1": "11000", "A2": "8800", "A3": "6600", "S1": "13200", "D1": "9900", "D2": "7700", "D3": "12100"}
PARTIAL = {("2026-02", "A3"): "3300", ("2026-03", "D2"): "3500"}
ALLOCATIONS = {  # month -> person -> {model: percent}; the rest of 100 is allocated to no model
    "2026-01": {
        "A1": {"m1": 100},
        "A2": {"m1": 100},
        "S1": {"m1": 50, "m2": 50},
        "D1": {"m2": 100},
        "D2": {"m2": 100},
        "D3": {"m2": 60},
    },
    "2026-02": {
        "A1": {"m1": 60},
        "A2": {"m1": 100},
        "A3": {"m1": 100},
        "S1": {"m1": 50, "m2": 50},
        "D1": {"m2": 100},
        "D2": {"m2": 100},
        "D3": {"m2": 100},
    },
    "2026-03": {
        "A1": {"m1": 100},
        "A2": {"m1": 100},
        "A3": {"m1": 100},
        "S1": {"m2": 100},
        "D1": {"m2": 100},
        "D2": {"m2": 100},
        "D3": {"m2": 100},
    },
}
# The rate groups of 2026-Q1, as in tests/ingest/test_labor.py: the lone sre merges into its family
# with the ml-engineers (486.16); the data scientists are a band of their own: (29,700 + 7,700 x 2
# + 3,500 + 36,300) / (64 + 52 + 64) = 84,900 / 180 = 471.67.
GROUPS = {
    "A1": "engineering",
    "A2": "engineering",
    "A3": "engineering",
    "S1": "engineering",
    "D1": "data-scientist",
    "D2": "data-scientist",
    "D3": "data-scientist",
}


def _hand_built(root: Path) -> Path:
    Workspace.init(root, config_text=CONFIG)
    (root / "inbox" / "labor" / "people.csv").write_text(PEOPLE)
    rows = [
        f"{m},{p},{model},{pct}\n"
        for m, people in ALLOCATIONS.items()
        for p, models in people.items()
        for model, pct in models.items()
    ]
    (root / "inbox" / "labor" / "allocations.csv").write_text("month,person_id,model_id,percent\n" + "".join(rows))
    for path in (root / "inbox" / "labor").iterdir():
        path.chmod(0o600)
    return root


def _workers(allocations: dict[str, dict[str, dict[str, int]]]) -> dict[tuple[str, str], set[str]]:
    """(month, model) -> people with time on it, __unallocated__ included."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for month, people in allocations.items():
        for person, models in people.items():
            for model in models:
                found[(month, model)].add(person)
            if sum(models.values()) < 100:
                found[(month, "__unallocated__")].add(person)
    return found


def _working_days(month: str, start: date | None) -> list[date]:
    """Monday to Friday of the month, from `start` on."""
    first = date.fromisoformat(month + "-01")
    days = [first + timedelta(days=i) for i in range(31)]
    return [d for d in days if d.month == first.month and d.isoweekday() <= 5 and (start is None or d >= start)]


# --------------------------------------------------------------------------- what sql shows


def _involves_labor(schema: str, name: str, columns: list[str]) -> str | None:
    """The rows of a relation that involve labor, as a condition (None: none of them)."""
    if "labor" in name:
        return "true"
    if "category" in columns:
        return "category = 'labor'"
    if "source" in columns:
        return "source = 'labor'"
    if "suite" in columns:
        return "suite like 'labor%'"
    if schema == "marts" and "model_id" in columns:  # per-model totals across categories
        return "true"
    return None


def readable(warehouse: Path) -> tuple[set[Decimal], list[tuple[str, dict]]]:
    """Every number in every row that involves labor, in every table and view, plus the sums an
    analyst would form of the ledger's labor and of staging.labor; and those rows."""
    con = connect_read_only(warehouse)  # what `costledger sql` opens
    relations = con.execute(
        "select schema_name, table_name from duckdb_tables() where not internal "
        "union all select schema_name, view_name from duckdb_views() where not internal order by all"
    ).fetchall()
    assert len(relations) > 30  # every layer's tables and views, not a fixed list
    figures: set[Decimal] = set()
    rows: list[tuple[str, dict]] = []
    for schema, name in relations:
        relation = f'"{schema}"."{name}"'
        where = _involves_labor(schema, name, con.sql(f"select * from {relation}").columns)
        if where is None:
            continue
        for row in con.sql(f"select * from {relation} where {where}").pl().to_dicts():
            rows.append((f"{schema}.{name}", row))
            numbers = [v for v in row.values() if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)]
            figures |= {Decimal(str(v)) for v in numbers}
    sums = """
        select sum(effective_cost), sum(billed_cost), sum(quantity) from ledger.cost_ledger where category = 'labor'
        group by grouping sets ((billing_period), (billing_period, model_id), (billing_period, subcategory),
            (charge_date), (model_id), (subcategory), ())
        union all
        select sum(cost), sum(person_days), sum(headcount) from staging.labor
        group by grouping sets ((month), (month, model_id), (month, role), (model_id), (role), ())
    """
    for values in con.execute(sums).fetchall():
        figures |= {Decimal(v) for v in values if v is not None}
    con.close()
    return figures, rows


def recovered(figures: set[Decimal], pay: set[Decimal]) -> list[str]:
    """Each way a person's pay shows: as a figure, or as the difference of two figures."""
    found = [f"{p} is published" for p in pay if p in figures]
    found += [f"{f + p} - {f} = {p}" for p in pay for f in figures if f + p in figures]
    return found


def scaled_up(rows: list[tuple[str, dict]], working_days: dict[str, int]) -> set[Decimal]:
    """Attack 1 on every cell: cost / person-days x the month's working days, to the cent."""
    out = set()
    for where, row in rows:
        if where == "staging.labor" and row["person_days"]:
            month = row["cost"] / row["person_days"] * working_days[row["month"]]
            out.add(month.quantize(CENT, rounding=ROUND_HALF_EVEN))
    return out


def assert_cells_stand_for_k(
    warehouse: Path, workers: dict[tuple[str, str], set[str]], group_of: dict[str, str]
) -> int:
    """Every labor cell shown (staging.labor, ledger labor rows) covers at least K people, counted
    from the test's own inputs: a rate group's cell, the model's people of that group; "all staff",
    the model's people of every group without a cell of its own. Returns the cells counted."""
    with connect_read_only(warehouse) as con:
        shown = con.execute(
            "select distinct billing_period, model_id, subcategory from ledger.cost_ledger where source = 'labor' "
            "union select month, model_id, role from staging.labor"
        ).fetchall()
    labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    for month, model, label in shown:
        labels[(month, model)].add(label)
    for (month, model), here in labels.items():
        own = here - {"all staff"}
        for label in here:
            if label == "all staff":
                people = {p for p in workers[(month, model)] if group_of[p] not in own}
            else:
                people = {p for p in workers[(month, model)] if group_of[p] == label}
            assert len(people) >= K, (month, model, label, sorted(people))
    return len(shown)


# --------------------------------------------------------------------------- the tests


def test_the_attacks_recover_nobodys_pay_on_a_joiner_a_leaver_and_a_one_person_role(tmp_path):
    root = _hand_built(tmp_path / "ws")
    run.run(root, month="2026-03")
    # attack 1 as filed: a group of fewer than 3 people; and the HR totals table is gone
    query = "select month, model_id, role, headcount, cost, person_days from staging.labor where headcount < 3"
    small = runner.invoke(app, ["sql", "-w", str(root), "--format", "csv", query])
    assert small.exit_code == 0 and small.output.strip() == "month,model_id,role,headcount,cost,person_days"
    totals = runner.invoke(app, ["sql", "-w", str(root), "select month, headcount, cost from staging.labor_totals"])
    assert totals.exit_code == 2 and "labor_totals" in totals.output

    figures, rows = readable(root / "warehouse.duckdb")
    assert len(figures) > 40
    assert {"ledger.cost_ledger", "marts.monthly_model_cost", "staging.labor"} <= {where for where, _ in rows}
    pay = {Decimal(v) for v in MONTHLY.values()} | {Decimal(v) for v in PARTIAL.values()}
    # attack 2: e.g. February's labor minus January's would be the joiner's 3,300.00 with monthly HR totals
    assert recovered(figures, pay) == []
    # attack 1 on every cell: Q1 2026 working days January 22, February 20, March 22
    assert scaled_up(rows, {"2026-01": 22, "2026-02": 20, "2026-03": 22}) & pay == set()
    # every headcount shown is at least k, and every cell covers k people by the test's own count
    headcounts = [row["headcount"] for _, row in rows if row.get("headcount") is not None]
    assert headcounts and min(headcounts) >= K
    assert assert_cells_stand_for_k(root / "warehouse.duckdb", _workers(ALLOCATIONS), GROUPS) >= 6
    # the one-person role (sre) has no rate or cell of its own; its pay per day over the quarter
    # (39,600 / 64 = 618.75) is no published rate, nor is the joiner's (9,900 / 32 = 309.38) or the
    # leaver's (18,900 / 52 = 363.46)
    with connect_read_only(root / "warehouse.duckdb") as con:
        rates = {r[0]: r[1] for r in con.execute("select role, rate from staging.labor_rates").fetchall()}
        roles = {
            r[0]
            for r in con.execute(
                "select distinct role from staging.labor union select distinct subcategory from ledger.cost_ledger"
            ).fetchall()
        }
        verdicts = con.execute(
            "select distinct suite, success from meta.check_results where suite like 'labor%' order by 1"
        ).fetchall()
    assert "sre" not in rates and "sre" not in roles
    assert rates == {"engineering": Decimal("486.16"), "data-scientist": Decimal("471.67")}
    assert not {Decimal("618.75"), Decimal("309.38"), Decimal("363.46")} & set(rates.values())
    # conservation held in the restricted database for each month, and only its verdict is here
    assert verdicts == [("labor_conservation", True), ("labor_privacy", True)]
    with duckdb.connect(str(root / "restricted" / "hr.duckdb"), read_only=True) as hr:
        # HR cost by hand: January 11,000 + 8,800 + 13,200 + 9,900 + 7,700 + 12,100 = 62,700.00;
        # February the same + the joiner's 3,300.00 = 66,000.00;
        # March 11,000 + 8,800 + 6,600 + 13,200 + 9,900 + 3,500 + 12,100 = 65,100.00
        hr_cost = hr.execute("select month, hr_cost from labor_variance order by 1").fetchall()
        balanced = hr.execute(
            "select count(*) from labor_variance where allocated_cost + variance <> hr_cost"
        ).fetchone()[0]
    assert hr_cost == [("2026-01", Decimal("62700")), ("2026-02", Decimal("66000")), ("2026-03", Decimal("65100"))]
    assert balanced == 0
    for month, cost in hr_cost:  # the HR totals are nowhere in sql's reach
        assert cost not in figures, month
    # had they been published (as staging.labor_totals was), February - January would be the joiner's pay:
    # the same search finds it, so its empty answer above means something
    with_totals = recovered(figures | {cost for _, cost in hr_cost}, pay)
    assert "66000 - 62700 = 3300" in {text.replace(".000000000000000000", "") for text in with_totals}


@pytest.mark.slow
def test_the_attacks_recover_nobodys_pay_on_the_demo_estate(demo_estate):
    warehouse = demo_estate.root / "warehouse.duckdb"
    with (demo_estate.root / "inbox" / "labor" / "people.csv").open() as handle:
        people = list(csv.DictReader(handle))
    monthly = {
        p["person_id"]: Decimal(p["monthly_salary"]) + Decimal(p["benefits"]) + Decimal(p["employer_taxes"])
        for p in people
    }
    # each person's pay per month employed (the mid-February joiner's February is 10 of 20 days), with
    # and without that month's training spend (E1000's conference in January, CC-100's course in March)
    pay = set(monthly.values()) | set(demo_estate.pay.values())
    pay |= {demo_estate.pay[("2026-01", "E1000")] + Decimal("1500.00")}
    pay |= {amount + Decimal("200.00") for (month, person), amount in demo_estate.pay.items() if month == "2026-03"}
    figures, rows = readable(warehouse)
    assert len(figures) > 1000
    assert recovered(figures, pay) == []
    days = {m: len(_working_days(m, None)) for m in demo_estate.months}
    assert days == {"2026-01": 22, "2026-02": 20, "2026-03": 22}
    assert scaled_up(rows, days) & pay == set()
    headcounts = [row["headcount"] for _, row in rows if row.get("headcount") is not None]
    assert headcounts and min(headcounts) >= K
    groups = {person: group for (_, person), group in demo_estate.rate_group.items()}
    assert assert_cells_stand_for_k(warehouse, demo_estate.workers, groups) >= 20
    # no published rate is one person's own pay per working day over the quarter
    with connect_read_only(warehouse) as con:
        rates = {r[0] for r in con.execute("select rate from staging.labor_rates").fetchall()}
    for p in people:
        start = date.fromisoformat(p["start_date"]) if p["start_date"] else None
        months = [m for m in demo_estate.months if (m, p["person_id"]) in demo_estate.pay]
        employed = sum(len(_working_days(m, start)) for m in months)
        own = sum(demo_estate.pay[(m, p["person_id"])] for m in months) / employed
        own = own.quantize(CENT, rounding=ROUND_HALF_EVEN)
        assert own not in rates, p["person_id"]


def test_run_warns_once_per_readable_hr_file_and_not_for_private_ones(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.ingest")
    root = _hand_built(tmp_path / "ws")
    (root / "inbox" / "labor" / "people.csv").chmod(0o644)
    assert runner.invoke(app, ["run", "-w", str(root), "--month", "2026-03"]).exit_code == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("labor/people.csv is readable by group or others (mode 644)")
    assert "chmod 600" in warnings[0]
    caplog.clear()
    (root / "inbox" / "labor" / "people.csv").chmod(0o600)
    assert runner.invoke(app, ["run", "-w", str(root), "--month", "2026-03"]).exit_code == 0
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []


def test_a_new_workspace_and_the_demo_keep_hr_files_owner_only(tmp_path, demo_estate):
    root = Workspace.init(tmp_path / "fresh").root
    assert (root / "inbox" / "labor").stat().st_mode & 0o777 == 0o700
    folder = demo_estate.root / "inbox" / "labor"
    assert folder.stat().st_mode & 0o777 == 0o700
    files = sorted(folder.iterdir())
    assert len(files) == 5 and {f.stat().st_mode & 0o777 for f in files} == {0o600}
