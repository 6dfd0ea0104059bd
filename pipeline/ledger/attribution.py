"""Which model and which category a billing row belongs to.

Tags are evaluated once per distinct tag set (a month has few), not once per row."""

from __future__ import annotations

import csv
import json
import re
from functools import lru_cache
from pathlib import Path

import polars as pl

from pipeline import patterns
from pipeline.config import Config

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "category_rules.csv"
_MATCH_COLUMNS = {
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
        for column in _MATCH_COLUMNS:  # run by Polars (full_match)
            if rule.get(column):
                try:
                    patterns.check(rule[column], patterns.POLARS)
                except ValueError as exc:
                    raise ValueError(f"{path}: row {number}, column {column!r}: {exc}") from None
        if rule.get("tag_value"):  # run by Python (tag_table)
            try:
                re.compile(rule["tag_value"])
            except re.error as exc:
                raise ValueError(f"{path}: row {number}, column 'tag_value': bad regular expression: {exc}") from None
    return rules


def full_match(column: str, pattern: str) -> pl.Expr:
    return pl.col(column).fill_null("").str.contains(patterns.full(pattern))


def tag_table(tags: pl.Series, config: Config, rules: tuple[dict[str, str], ...]) -> pl.DataFrame:
    """One row per distinct Tags text: the model its tags name, and which tag rules it meets."""
    keys = [k.strip().lower() for k in config.attribution.tag_keys]
    models = set(config.model_ids)
    records = []
    for text in tags.unique().to_list():
        normal = normalise_tags(text)
        named = next((normal[k] for k in keys if normal.get(k)), None)
        record = {
            "Tags": text,
            "_tag_model": named if named in models else None,
            "_tag_unknown": named if named is not None and named not in models else None,
        }
        for index, rule in enumerate(rules):
            if rule.get("tag_key"):
                value = normal.get(rule["tag_key"].strip().lower())
                record[f"_tag_rule_{index}"] = value is not None and bool(re.fullmatch(rule.get("tag_value") or ".*", value))
        records.append(record)
    schema = {"Tags": pl.String, "_tag_model": pl.String, "_tag_unknown": pl.String}
    schema |= {f"_tag_rule_{i}": pl.Boolean for i, r in enumerate(rules) if r.get("tag_key")}
    return pl.DataFrame(records, schema=schema)


def categorise(rows: pl.DataFrame, rules: tuple[dict[str, str], ...]) -> pl.DataFrame:
    """Add category and subcategory: the first rule whose every given condition holds."""
    chain = None
    for index, rule in enumerate(rules):
        conditions = [pl.lit(True)]
        for key, column in _MATCH_COLUMNS.items():
            if rule.get(key):
                conditions.append(full_match(column, rule[key]))
        if rule.get("publisher_differs") == "true":
            conditions.append(
                pl.col("PublisherName").is_not_null()
                & pl.col("InvoiceIssuerName").is_not_null()
                & (pl.col("PublisherName") != pl.col("InvoiceIssuerName"))
            )
        if rule.get("tag_key"):
            conditions.append(pl.col(f"_tag_rule_{index}"))
        condition = pl.all_horizontal(conditions)
        value = pl.struct(pl.lit(rule["category"]).alias("category"), pl.lit(rule["subcategory"]).alias("subcategory"))
        chain = pl.when(condition).then(value) if chain is None else chain.when(condition).then(value)
    fallback = pl.struct(pl.lit("operational").alias("category"), pl.lit("other").alias("subcategory"))
    picked = (chain.otherwise(fallback) if chain is not None else fallback).alias("_category")
    return rows.with_columns(picked).unnest("_category")


def rule_model(config: Config) -> pl.Expr:
    """The model named by the first attribution rule whose field matches, else null."""
    chain = None
    for rule in config.attribution.rules:
        condition = full_match(rule.field.value, rule.pattern)
        chain = pl.when(condition).then(pl.lit(rule.model)) if chain is None else chain.when(condition).then(pl.lit(rule.model))
    return chain.otherwise(None) if chain is not None else pl.lit(None, dtype=pl.String)


def workload_models(workloads: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Map distinct (namespace, pod) pairs to a model via the workload rules (first match; the
    namespace and pod are regular expressions matched in full)."""
    chain = None
    for rule in config.workloads:
        condition = pl.col("namespace").is_not_null() & full_match("namespace", rule.namespace) & full_match("pod", rule.pod_pattern)
        chain = pl.when(condition).then(pl.lit(rule.model)) if chain is None else chain.when(condition).then(pl.lit(rule.model))
    expr = chain.otherwise(None) if chain is not None else pl.lit(None, dtype=pl.String)
    return workloads.with_columns(expr.alias("workload_model"))
