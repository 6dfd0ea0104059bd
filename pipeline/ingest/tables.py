"""The simple CSV inputs: asset register, other charges, business volume, optimisation log,
milestones, FX rates and budgets. Each is a declared schema; one reader serves them all.
(They are declarations, not logic, so they share a module instead of six near-empty ones.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.columns import CATEGORIES
from pipeline.ingest.parse import ROW, Col, Kind, Parsed, coerce, raw_records, read_csv_text, reject
from pipeline.money import RATE_LIMIT, RATE_LIMIT_TEXT

DATA_SUBCATEGORIES = ("collection", "cleaning", "labelling", "storage")
# A budget line is for one model, team, business line or owner (or, naming none, the whole estate).
BUDGET_SCOPES = ("model_id", "team", "business_line", "owner")
BUDGET_KEY = ("period", *BUDGET_SCOPES, "category")
# one-letter column kinds keep the tables below readable (E741 flags the I, which is Kind.INT)
T, M, D, I, DT, R = Kind.TEXT, Kind.MONEY, Kind.DECIMAL, Kind.INT, Kind.DATE, Kind.RATE  # noqa: E741


@dataclass(frozen=True)
class Table:
    source: str  # inbox folder
    format: str
    table: str  # staging table
    schema: dict[str, Col]

    def read(self, path: Path, data: bytes | None = None, *, dates: str = "auto") -> Parsed:
        """The file's rows; `data`: its content, when already read."""
        frame = read_csv_text(path, data=data)
        rows, rejects = coerce(frame, self.schema, path=path, dates=dates)
        rows, more = _rules(self, rows)
        return Parsed(
            format=self.format,
            raw=raw_records(frame),
            rows=rows.select(ROW, *self.schema),
            rejects=pl.concat([rejects, *more]),
        )

    def matches(self, header: list[str]) -> bool:
        required = {name for name, col in self.schema.items() if col.required}
        return required <= {c.strip() for c in header}


def _rules(table: Table, rows: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Checks beyond types, per table: each moves offending rows to rejects."""
    checks: list[tuple[pl.Expr, str, str]] = []
    if table.table == "assets":
        checks = [
            (pl.col("price") < 0, "price", "expected a price of 0 or more"),
            (pl.col("salvage_value") > pl.col("price"), "salvage_value", "expected salvage_value no larger than price"),
            (pl.col("useful_life_months") <= 0, "useful_life_months", "expected a positive number of months"),
            (pl.col("gpu_count") <= 0, "gpu_count", "expected a positive number of GPUs"),
        ]
    elif table.table == "charges":
        checks = [
            (~pl.col("category").is_in(CATEGORIES), "category", f"expected one of {list(CATEGORIES)}"),
            (
                pl.col("service_end") < pl.col("service_start"),
                "service_end",
                "expected service_end on or after service_start",
            ),
            (
                (pl.col("category") == "data") & ~pl.col("subcategory").is_in(DATA_SUBCATEGORIES),
                "subcategory",
                f"expected a data subcategory: one of {list(DATA_SUBCATEGORIES)}",
            ),
        ]
    elif table.table == "licences":
        checks = [
            (
                ~pl.col("billing").is_in(["term", "monthly"]),
                "billing",
                "expected 'term' (amount covers the whole term) or 'monthly'",
            ),
            (pl.col("term_end") < pl.col("term_start"), "term_end", "expected term_end on or after term_start"),
            (pl.col("seats") <= 0, "seats", "expected a positive number of seats"),
            (
                ~pl.col("seats_by_model")
                .fill_null("")
                .str.contains(r"^(\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*=\s*\d+\s*(;|$))*$"),
                "seats_by_model",
                "expected model=seats pairs separated by ';', e.g. search-ranker=5;rec-retrieval=3",
            ),
        ]
    elif table.table == "invoices":
        checks = [
            (
                ~pl.col("billing_period").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"),
                "billing_period",
                "expected a month like 2026-01",
            )
        ]
    elif table.table == "usage":
        checks = [(pl.col("requests") < 0, "requests", "expected 0 or more requests")]
    elif table.table == "milestones":
        checks = [(pl.col("cost_of_delay_per_day") < 0, "cost_of_delay_per_day", "expected 0 or more")]
    elif table.table == "fx_rates":
        checks = [
            (pl.col("rate") <= 0, "rate", "expected a positive rate"),
            (
                pl.col("rate") >= pl.lit(RATE_LIMIT, dtype=pl.Decimal(38, 10)),
                "rate",
                f"expected a rate below {RATE_LIMIT_TEXT}",
            ),
        ]
    elif table.table == "optimizations":
        claimed = pl.col("claimed_saving_percent")
        checks = [(~claimed.is_between(0, 100), "claimed_saving_percent", "expected a percentage from 0 to 100")]
    elif table.table == "budgets":
        named = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int32) for c in BUDGET_SCOPES])
        checks = [
            (~pl.col("period").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"), "period", "expected a month like 2026-01"),
            (named > 1, "model_id", f"expected at most one of {list(BUDGET_SCOPES)} (none: the whole estate)"),
            (
                ~pl.col("category").is_in(CATEGORIES),
                "category",
                f"expected one of {list(CATEGORIES)}, or empty for all six",
            ),
            (pl.col("amount") < 0, "amount", "expected 0 or more"),
            # a second line for the same period, scope and category contradicts the first
            (
                ~pl.struct(BUDGET_KEY).is_first_distinct(),
                "period",
                "expected one line per period, scope and category: this one repeats an earlier line",
            ),
        ]
    rejected = []
    for mask, column, reason in checks:
        rows, bad = reject(rows, mask.fill_null(False), column=column, reason=reason)
        rejected.append(bad)
    for column in ("currency",):
        if column in rows.columns:
            rows = rows.with_columns(pl.col(column).str.to_uppercase())
    return rows, rejected


TABLES: tuple[Table, ...] = (
    Table(
        "assets",
        "asset-register-csv",
        "assets",
        {
            "asset_id": Col(T, True),
            "hostname": Col(T, True),
            "gpu_count": Col(I, True),
            "in_service_date": Col(DT, True),
            "useful_life_months": Col(I, True),
            "price": Col(M, True),
            "salvage_value": Col(M, True),
            "maintenance_per_month": Col(M, True),
            "currency": Col(T, True),
            "disposal_date": Col(DT),
        },
    ),
    Table(
        "charges",
        "vendor-charges-csv",
        "charges",
        {
            "invoice_id": Col(T, True),
            "vendor": Col(T, True),
            "category": Col(T, True),
            "subcategory": Col(T, True),
            "service_start": Col(DT, True),
            "service_end": Col(DT, True),
            "amount": Col(M, True),
            "currency": Col(T, True),
            "model_id": Col(T),
            "description": Col(T),
        },
    ),
    Table(
        "charges",
        "licence-register-csv",
        "licences",
        {
            "licence_id": Col(T, True),
            "vendor": Col(T, True),
            "product": Col(T, True),
            "term_start": Col(DT, True),
            "term_end": Col(DT, True),
            "billing": Col(T, True),
            "amount": Col(M, True),
            "currency": Col(T, True),
            "seats": Col(I, True),
            "seats_by_model": Col(T),
        },
    ),
    # cloud invoice totals (optional): each must equal the billing rows of its invoice, to the cent
    Table(
        "charges",
        "invoice-totals-csv",
        "invoices",
        {
            "invoice_id": Col(T, True),
            "billing_account_id": Col(T, True),
            "billing_period": Col(T, True),
            "currency": Col(T, True),
            "total": Col(M, True),
            "provider": Col(T),
        },
    ),
    Table(
        "usage",
        "usage-csv",
        "usage",
        {
            "usage_date": Col(DT, True),
            "model_id": Col(T, True),
            "requests": Col(I, True),
            "input_tokens": Col(I),
            "output_tokens": Col(I),
        },
    ),
    Table(
        "optimizations",
        "optimization-log-csv",
        "optimizations",
        {
            "action_date": Col(DT, True),
            "model_id": Col(T, True),
            "action": Col(T, True),
            "description": Col(T),
            "claimed_saving_percent": Col(D),
        },
    ),
    Table(
        "milestones",
        "milestones-csv",
        "milestones",
        {
            "model_id": Col(T, True),
            "milestone": Col(T, True),
            "planned_date": Col(DT, True),
            "actual_date": Col(DT),
            "cost_of_delay_per_day": Col(M, True),
            "currency": Col(T, True),
            "started_date": Col(DT),
            "cancelled_date": Col(DT),
        },
    ),
    Table(
        "fx",
        "fx-rates-csv",
        "fx_rates",
        {
            "rate_date": Col(DT, True),
            "currency": Col(T, True),
            "rate": Col(R, True),
        },
    ),
    Table(
        "budgets",
        "budgets-csv",
        "budgets",
        {
            "period": Col(T, True),
            "amount": Col(M, True),
            "currency": Col(T, True),
            "model_id": Col(T),
            "team": Col(T),
            "business_line": Col(T),
            "owner": Col(T),
            "category": Col(T),
        },
    ),
)


def find(source: str, header: list[str]) -> Table | None:
    """The first declared table of this inbox folder whose required columns the header has."""
    return next((t for t in TABLES if t.source == source and t.matches(header)), None)


def expected(source: str) -> str:
    return " or ".join(str([n for n, c in t.schema.items() if c.required]) for t in TABLES if t.source == source)


BY_FORMAT: dict[str, Table] = {t.format: t for t in TABLES}
