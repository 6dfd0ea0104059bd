"""ServiceCategory for exports that do not carry one (CUR, Azure, GCP): the first pattern in
`pipeline/rules/service_categories.csv` that matches the service name or product code.

The table is provider-agnostic and user-editable; a service no pattern matches gets
`Other` (FOCUS's catch-all), and the category rules then decide its ledger category."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

import polars as pl

SERVICE_RULES = Path(__file__).resolve().parent.parent / "rules" / "service_categories.csv"


@lru_cache(maxsize=4)
def _rules(path: Path = SERVICE_RULES) -> tuple[tuple[str, str], ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        rules = tuple((row["pattern"], row["service_category"]) for row in csv.DictReader(handle))
    for number, (pattern, _) in enumerate(rules, start=2):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{path}: row {number}, column 'pattern': bad regular expression: {exc}") from None
    return rules


def _category(*names: str | None) -> str | None:
    for pattern, category in _rules():
        if any(name is not None and re.fullmatch(pattern, name) for name in names):
            return category
    return "Other" if any(name is not None for name in names) else None


def with_service_category(rows: pl.DataFrame, *names: str) -> pl.DataFrame:
    """Add ServiceCategory from the first of `names` (service name, then product code) a rule
    matches; evaluated once per distinct name pair, not per row."""
    distinct = rows.select(*names).unique()
    categories = [_category(*values) for values in distinct.iter_rows()]
    table = distinct.with_columns(pl.Series("ServiceCategory", categories, dtype=pl.String))
    joined = rows.select(*names).join(table, on=list(names), how="left", nulls_equal=True, maintain_order="left")
    return rows.with_columns(
        joined.get_column("ServiceCategory")
    )  # joined on the names alone: the other columns are not copied
