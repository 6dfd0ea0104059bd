"""CSV files as the demo and scale generators write them, and the HR files' headers: people's
names and pay are written owner-only."""

from __future__ import annotations

import csv
from pathlib import Path


def write_csv(path: Path, header: list[str], rows: list[list], *, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# The HR files' headers, as the labor adapter reads them (people with pay; allocations by month).
PEOPLE_HEADER = [
    "person_id",
    "name",
    "role",
    "cost_centre",
    "monthly_salary",
    "benefits",
    "employer_taxes",
    "currency",
    "start_date",
    "end_date",
]
ALLOCATIONS_HEADER = ["month", "person_id", "model_id", "percent"]
# inbox/assets/: the owned-hardware register
ASSETS_HEADER = [
    "asset_id",
    "hostname",
    "gpu_count",
    "in_service_date",
    "useful_life_months",
    "price",
    "salvage_value",
    "maintenance_per_month",
    "currency",
    "disposal_date",
]
# inbox/charges/: vendor invoices
CHARGES_HEADER = [
    "invoice_id",
    "vendor",
    "category",
    "subcategory",
    "service_start",
    "service_end",
    "amount",
    "currency",
    "model_id",
    "description",
]
# inbox/charges/licences.csv: the licence register
LICENCES_HEADER = [
    "licence_id",
    "vendor",
    "product",
    "term_start",
    "term_end",
    "billing",
    "amount",
    "currency",
    "seats",
    "seats_by_model",
]


def write_private_csvs(folder: Path, files: dict[str, tuple[list[str], list[list]]]) -> None:
    """HR files (name -> header, rows) written owner-only: they hold names and pay, and the
    README asks the same of users (files 0600 in a 0700 folder)."""
    for name, (header, rows) in files.items():
        write_csv(folder / name, header, rows)
    folder.chmod(0o700)
    for path in folder.iterdir():
        path.chmod(0o600)
