"""Which model and which category a billing row belongs to: the category rule table and how tags
are read. The build matches them in SQL (sql/ledger/passes/billing_tag_values.sql and
billing_classes.sql, through meta.category_rules and meta.tag_keys), once per distinct tag set and
routing class; every pattern is a regular expression matched in full by DuckDB (RE2)."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

from pipeline import patterns

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "category_rules.csv"
_MATCH_COLUMNS = {  # rule table column -> billing column it matches
    "charge_category": "ChargeCategory",
    "service_category": "ServiceCategory",
    "service_name": "ServiceName",
    "charge_description": "ChargeDescription",
}


def normalise_tags(text: str | None) -> dict[str, str]:
    """Tag keys compared case-insensitively and without surrounding spaces; values trimmed."""
    if not text:
        return {}
    try:
        tags = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(tags, dict):
        return {}
    return {str(k).strip().lower(): str(v).strip() for k, v in tags.items() if v is not None}


@lru_cache(maxsize=8)
def category_rules(path: Path = RULES_FILE) -> tuple[dict[str, str], ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        rules = tuple(dict(row) for row in csv.DictReader(handle))
    for number, rule in enumerate(rules, start=2):
        for column in (*_MATCH_COLUMNS, "tag_value"):  # run by DuckDB (RE2) in the build
            if rule.get(column):
                try:
                    patterns.check(rule[column], patterns.DUCKDB)
                except ValueError as exc:
                    raise ValueError(f"{path}: row {number}, column {column!r}: {exc}") from None
    return rules
