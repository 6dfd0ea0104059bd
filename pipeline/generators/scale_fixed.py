"""The HR and fixed inputs of a generated benchmark workspace: people and allocations (every person
employed the whole month, labor = the sum of their loaded monthly cost), the owned servers' asset
register, vendor charges, a licence and a late milestone, in round numbers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pipeline.generators.csvfiles import (
    ALLOCATIONS_HEADER,
    ASSETS_HEADER,
    CHARGES_HEADER,
    LICENCES_HEADER,
    PEOPLE_HEADER,
    write_csv,
    write_private_csvs,
)
from pipeline.generators.scale_spec import GPUS_PER_NODE, MONTH, Spec, host_name, model_id

ASSET_PRICE, ASSET_SALVAGE, ASSET_LIFE_MONTHS = (
    Decimal("119500.00"),
    Decimal("10000.00"),
    36,
)  # 109500 / 1095 days = 100.00 a day
ASSET_MAINTENANCE = Decimal("310.00")  # 10.00 a day in a 31-day month
CHARGE_DATA, CHARGE_SOFTWARE = Decimal("3100.00"), Decimal("6200.00")  # both inside January: 100.00 and 200.00 a day
LICENCE_MONTHLY = Decimal("930.00")  # monthly billing: 30.00 a day
DELAY_PER_DAY, DELAY_DAYS = Decimal("500.00"), 4  # planned Jan 10, delivered Jan 14: Jan 11..14 late
ROLES = ("ml-engineer", "data-scientist", "sre", "data-engineer")


def person_cost(index: int, seed: int) -> tuple[Decimal, Decimal, Decimal]:
    """(monthly salary, benefits, employer taxes) of person `index`: whole dollars, 12%, 9.5%."""
    salary = Decimal(6_000 + (index * 7_919 + seed * 31) % 6_000)
    return salary, salary * Decimal("0.12"), salary * Decimal("0.095")


def write_labor(root: Path, spec: Spec, seed: int) -> None:
    people, allocations = [], []
    for p in range(spec.people):  # a row per person: people, not billing rows
        salary, benefits, taxes = person_cost(p, seed)
        person = f"E{10_000 + p}"
        people.append(
            [
                person,
                f"Person {p}",
                ROLES[p % len(ROLES)],
                f"CC-{100 + p % 5}",
                str(salary),
                str(benefits),
                str(taxes),
                "USD",
                "",
                "",
            ]
        )
        first, second = (p * 3 + seed) % spec.models, (p * 3 + seed + 1) % spec.models
        allocations += [
            [MONTH, person, model_id(first), str(40 + 10 * (p % 3))],
            [MONTH, person, model_id(second), "30"],
        ]
    write_private_csvs(
        root / "inbox" / "labor",
        {"people.csv": (PEOPLE_HEADER, people), "allocations.csv": (ALLOCATIONS_HEADER, allocations)},
    )


def write_fixed_inputs(root: Path, spec: Spec) -> None:
    """Owned servers, vendor charges, a licence and a late milestone: a few rows, round numbers."""
    inbox = root / "inbox"
    owned = [host_name(h, spec) for h in range(spec.cloud_nodes, spec.hosts)]
    write_csv(
        inbox / "assets" / "register.csv",
        ASSETS_HEADER,
        [
            [
                f"A-{i:04d}",
                host,
                GPUS_PER_NODE,
                "2025-01-01",
                ASSET_LIFE_MONTHS,
                str(ASSET_PRICE),
                str(ASSET_SALVAGE),
                str(ASSET_MAINTENANCE),
                "USD",
                "",
            ]
            for i, host in enumerate(owned)
        ],
    )
    write_csv(
        inbox / "charges" / "invoices.csv",
        CHARGES_HEADER,
        [
            [
                "LC-001",
                "LabelCo",
                "data",
                "labelling",
                "2026-01-01",
                "2026-01-31",
                str(CHARGE_DATA),
                "USD",
                model_id(1 % spec.models),
                "Relevance labels",
            ],
            [
                "SW-001",
                "Triton Enterprise",
                "software",
                "licence",
                "2026-01-01",
                "2026-01-31",
                str(CHARGE_SOFTWARE),
                "USD",
                model_id(2 % spec.models),
                "Inference server",
            ],
        ],
    )
    write_csv(
        inbox / "charges" / "licences.csv",
        LICENCES_HEADER,
        [
            [
                "LIC-1",
                "Notebook Co",
                "notebooks",
                "2026-01-01",
                "2026-12-31",
                "monthly",
                str(LICENCE_MONTHLY),
                "USD",
                4,
                f"{model_id(0)}=2;{model_id(1 % spec.models)}=1",
            ]
        ],
    )
    write_csv(
        inbox / "milestones" / "milestones.csv",
        ["model_id", "milestone", "planned_date", "actual_date", "cost_of_delay_per_day", "currency", "started_date"],
        [[model_id(0), "launch", "2026-01-10", "2026-01-14", str(DELAY_PER_DAY), "USD", "2025-12-01"]],
    )
