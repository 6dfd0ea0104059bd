"""The demo's HR files (people, allocations, timesheets, projects, training) and the labor in the
truth, at standard rates: the generator rates its own people by the README's rules (rate groups
of at least K_ANONYMITY people) and keeps what it planted on the Estate for the privacy tests."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from pipeline.generators.csvfiles import ALLOCATIONS_HEADER, PEOPLE_HEADER, write_private_csvs
from pipeline.generators.plan import MODELS, D, Estate, Q, days_of, split_quanta

ROLES = ["ml-engineer"] * 6 + ["data-scientist"] * 4 + ["sre"] * 3 + ["data-engineer"] * 2 + ["ml-engineer"]
FAMILIES = {
    "ml-engineer": "engineering",
    "sre": "engineering",
    "data-engineer": "engineering",
    "data-scientist": "science",
}
K_ANONYMITY = 3
ALL_STAFF = "all staff"
FIRST_NAMES = [
    "Ana",
    "Bo",
    "Chen",
    "Dara",
    "Eli",
    "Fei",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Min",
    "Noor",
    "Oto",
    "Pia",
]
JOINER = 15  # joins mid-February: costs only the working days employed
JOINER_START = date(2026, 2, 16)
TIMESHEET_PEOPLE = (13, 14)  # the data engineers log hours on projects instead of percent allocations
PROJECT_HOURS = {"DATA-PIPE": 5, "SRCH-IDX": 2, "ADMIN": 1}  # a working day
PROJECTS = {"DATA-PIPE": "rec-ranker-llm", "SRCH-IDX": "search-ranker"}  # ADMIN maps to no model


def _working_days(month: str) -> list[date]:
    return [d for d in days_of([month]) if d.isoweekday() <= 5]


def _quarter(month: str) -> list[str]:
    year, number = month.split("-")
    first = (int(number) - 1) // 3 * 3 + 1
    return [f"{year}-{m:02d}" for m in range(first, first + 3)]


def _employed(monthly: Decimal, month: str, start: date | None) -> tuple[Decimal, int]:
    """(pay, working days) of a month: the monthly cost split evenly over its working days (the
    first days take the leftover quanta), kept for the days employed."""
    days = _working_days(month)
    base, extra = divmod(int(monthly / Q), len(days))
    kept = [i for i, d in enumerate(days) if start is None or d >= start]
    return D(sum(base + (1 if i < extra else 0) for i in kept)) * Q, len(kept)


def _per_day(pay: Decimal, days: int) -> Decimal:
    return (pay / days).quantize(D("0.01"), rounding=ROUND_HALF_EVEN)


def _rate_groups(quarter: dict[str, tuple[str, Decimal, int]]) -> dict[str, str]:
    """person -> rate group, by the standard-rate rules (README, "Privacy"): a group needs
    K_ANONYMITY people and a rate that is no member's own pay per day; a band short of that joins
    its family (the family taking in its smallest bands until it qualifies), else all staff (which
    takes in the smallest groups until it qualifies). `quarter`: person -> (band, pay, days)."""

    def qualifies(people: set[str]) -> bool:
        rate = _per_day(sum((quarter[p][1] for p in people), D(0)), sum(quarter[p][2] for p in people))
        return len(people) >= K_ANONYMITY and all(_per_day(quarter[p][1], quarter[p][2]) != rate for p in people)

    group = {p: band for p, (band, _, _) in quarter.items()}
    members = lambda g: {p for p in group if group[p] == g}  # noqa: E731
    bands = sorted(set(group.values()))
    for family in sorted(set(FAMILIES.values())):
        own = [b for b in bands if FAMILIES.get(b) == family]
        short = [b for b in own if not qualifies(members(b))]
        if not short:
            continue
        whole = {p for b in own for p in members(b)}
        for p in [p for p in group if group[p] in short]:
            group[p] = family if qualifies(whole) else ALL_STAFF
        for b in sorted(set(own) - set(short), key=lambda b: (len(members(b)), b)):
            if qualifies(whole) and not qualifies(members(family)):
                for p in members(b):
                    group[p] = family
    for b in bands:
        if b not in FAMILIES and not qualifies(members(b)):
            for p in members(b):
                group[p] = ALL_STAFF
    if members(ALL_STAFF):
        for g in sorted(set(group.values()) - {ALL_STAFF}, key=lambda g: (len(members(g)), g)):
            if not qualifies(members(ALL_STAFF)):
                for p in members(g):
                    group[p] = ALL_STAFF
    assert all(qualifies(members(g)) for g in set(group.values())), "the demo's people always rate"
    return group


def write_labor(estate: Estate, rng: random.Random) -> None:
    """People, allocations, timesheets and training; the truth: each person's working days employed
    x their rate group's standard rate (the group's pay / its working days over the quarter, to the
    cent), split over the person's shares; a model with fewer than K_ANONYMITY people in a month
    carries none (withheld). Pay beyond the standard cost, and training, are not any model's."""
    people, allocations, timesheets, training = [], [], [], []
    model_ids = list(MODELS)
    cost_centres: dict[str, str] = {}
    monthly: dict[str, tuple[str, Decimal, date | None]] = {}  # person -> (band, fully loaded, start)
    weights: dict[tuple[str, str], dict[str, int]] = {}
    for index, role in enumerate(ROLES):
        person = f"E{1000 + index}"
        salary = D(rng.randrange(800_000, 1_200_000)) / 100
        benefits, taxes = (salary * D("0.12")).quantize(D("0.01")), (salary * D("0.095")).quantize(D("0.01"))
        start = JOINER_START if index == JOINER else None
        cost_centres[person] = f"CC-{100 + index % 3}"
        monthly[person] = (role, salary + benefits + taxes, start)
        people.append(
            [
                person,
                f"{FIRST_NAMES[index]} Example",
                role,
                cost_centres[person],
                str(salary),
                str(benefits),
                str(taxes),
                "USD",
                start.isoformat() if start else "",
                "",
            ]
        )
        for month in estate.months:
            days = _working_days(month)
            if start and start > days[-1]:
                continue
            estate.pay[(month, person)] = _employed(monthly[person][1], month, start)[0]
            if index in TIMESHEET_PEOPLE:
                hours: dict[str, int] = defaultdict(int)
                for day in days:
                    for project, h in PROJECT_HOURS.items():
                        timesheets.append([day.isoformat(), person, project, "build", str(h), "", "", "USD"])
                        hours[PROJECTS.get(project, "__unallocated__")] += h * 100
                weights[(month, person)] = dict(hours)
                continue
            chosen = rng.sample(model_ids, 2)
            a, b = rng.choice([20, 30, 40, 50]), rng.choice([10, 20, 30, 40])
            for model, percent in ((chosen[0], a), (chosen[1], b)):
                allocations.append([month, person, model, str(percent)])
            weights[(month, person)] = {chosen[0]: a * 100, chosen[1]: b * 100} | (
                {"__unallocated__": (100 - a - b) * 100} if a + b < 100 else {}
            )
    training.append(["2026-01-20", "E1000", "", "1500.00", "USD", "conference"])
    training.append(["2026-03-10", "", "CC-100", "1200.00", "USD", "team course"])
    standard: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for quarter_months in sorted({tuple(_quarter(m)) for m in estate.months}):
        quarter: dict[str, tuple[str, Decimal, int]] = {}
        for person, (band, cost, start) in monthly.items():
            employed = [_employed(cost, m, start) for m in quarter_months]
            if sum(d for _, d in employed):
                quarter[person] = (band, sum((p for p, _ in employed), D(0)), sum(d for _, d in employed))
        groups = _rate_groups(quarter)
        rates = {}
        for g in set(groups.values()):
            members = [quarter[p] for p in quarter if groups[p] == g]
            rates[g] = _per_day(sum((pay for _, pay, _ in members), D(0)), sum(days for _, _, days in members))
        name = f"{quarter_months[0][:4]}-Q{(int(quarter_months[0][5:]) - 1) // 3 + 1}"
        estate.rate_group |= {(name, p): g for p, g in groups.items()}
        estate.rates |= {(name, g): r for g, r in rates.items()}
        for month in [m for m in quarter_months if m in estate.months]:
            for person in [p for (m, p) in weights if m == month]:
                worked = _employed(monthly[person][1], month, monthly[person][2])[1]
                for model, q in split_quanta(int(worked * rates[groups[person]] / Q), weights[(month, person)]).items():
                    standard[(month, model)] += D(q) * Q
                    estate.workers[(month, model)].add(person)
    for (month, model), amount in standard.items():
        if len(estate.workers[(month, model)]) >= K_ANONYMITY:
            estate.add(date.fromisoformat(month + "-01"), model, "labor", amount, amount)
    write_private_csvs(
        estate.root / "inbox" / "labor",
        {
            "people.csv": (PEOPLE_HEADER, people),
            "allocations.csv": (ALLOCATIONS_HEADER, allocations),
            "timesheets.csv": (
                ["date", "person_id", "project", "task", "hours", "cost_rate", "cost_amount", "currency"],
                timesheets,
            ),
            "projects.csv": (["project", "model_id"], [[p, m] for p, m in PROJECTS.items()]),
            "training.csv": (["date", "person_id", "cost_centre", "amount", "currency", "description"], training),
        },
    )
