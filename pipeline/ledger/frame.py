"""The shape every ledger component returns before currency conversion, and shared helpers (the
build's SQL passes among them)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import polars as pl

from pipeline import warehouse
from pipeline.config import Config
from pipeline.money import MONEY, split_exact

QTY = pl.Decimal(38, 9)
PASSES = warehouse.SQL_DIR / "ledger" / "passes"

# Columns of a ledger part (before FX conversion, lineage hashing and run_id).
PART_SCHEMA: dict[str, pl.DataType] = {
    "charge_date": pl.Date(),
    "billing_period": pl.String(),
    "model_id": pl.String(),
    "category": pl.String(),
    "subcategory": pl.String(),
    "source_amount": MONEY,
    "source_effective_amount": MONEY,
    "source_currency": pl.String(),
    "quantity": QTY,
    "quantity_unit": pl.String(),
    "source": pl.String(),
    "provider": pl.String(),
    "allocation_method": pl.String(),
    "allocation_share": MONEY,
    "unallocated_reason": pl.String(),
    "source_ref": pl.String(),
    "split_key": pl.String(),
}


def empty_parts() -> pl.DataFrame:
    return pl.DataFrame(schema=PART_SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast to PART_SCHEMA (missing optional columns become null)."""
    return frame.with_columns([pl.lit(None).alias(c) for c in PART_SCHEMA if c not in frame.columns]).select(
        [pl.col(c).cast(t) for c, t in PART_SCHEMA.items()]
    )


def month_days(period: str) -> list[date]:
    start = date.fromisoformat(f"{period}-01")
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [start + timedelta(days=i) for i in range((end - start).days)]


def working_days(period: str, config: Config) -> list[date]:
    """The period's working days: the declared weekdays, minus declared holidays."""
    holidays = {date.fromisoformat(h) for h in config.labor.holidays}
    return [d for d in month_days(period) if d.isoweekday() in config.labor.working_weekdays and d not in holidays]


def spread_evenly(frame: pl.DataFrame, *, group: list[str], days: str, amounts: list[str]) -> pl.DataFrame:
    """Explode each row over its list of days (column `days`) and split its amounts evenly and
    exactly: the earliest days take the leftover quanta."""
    exploded = frame.with_columns(pl.lit(1).alias("_one")).explode(days).rename({days: "charge_date"})
    out = split_exact(exploded.lazy(), group=group, key=["charge_date"], weight="_one", amounts=amounts).collect()
    return out.drop("_one")


ONE = pl.lit(1).cast(MONEY)


@cache
def query(name: str) -> str:
    """The text of sql/ledger/passes/<name>.sql (a chain of CTEs ending `select * from final`)."""
    return warehouse.sql_text("ledger", "passes", name)
