"""Labor, vendor charges and delay: the costs that do not come from a bill or a GPU.

- Labor: each (month, model, role group) amount from staging.labor is spread evenly over the
  month's working days (declared weekdays, minus holidays).
- Charges: a vendor invoice is spread evenly over its service days; only the period's days stay.
- Time: each day a milestone is late (after the planned day, up to the actual day, or up to the
  as-of day while still open) costs its cost of delay per day."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from pipeline.columns import AllocationMethod, Bucket
from pipeline.config import Config
from pipeline.ledger.frame import QTY, conform, empty_parts, month_days, spread_evenly
from pipeline.money import MONEY


def working_days(period: str, config: Config) -> list[date]:
    holidays = {date.fromisoformat(h) for h in config.labor.holidays}
    return [d for d in month_days(period) if d.isoweekday() in config.labor.working_weekdays and d not in holidays]


def labor_parts(labor: pl.DataFrame, config: Config, period: str) -> pl.DataFrame:
    days = working_days(period, config)
    rows = labor.filter(pl.col("month") == period)
    if rows.is_empty() or not days:
        return empty_parts()
    rows = rows.with_columns(
        pl.lit(days, dtype=pl.List(pl.Date)).alias("days"),
        pl.col("cost").alias("source_amount"),
        pl.col("cost").alias("source_effective_amount"),
        pl.col("person_days").cast(MONEY).alias("quantity"),
        (pl.lit("labor:") + pl.col("month") + pl.lit(":") + pl.col("model_id") + pl.lit(":") + pl.col("role")).alias("source_ref"),
    )
    spread = spread_evenly(rows, group=["source_ref"], days="days", amounts=["source_amount", "source_effective_amount", "quantity"])
    return conform(spread.with_columns(
        pl.lit(period).alias("billing_period"),
        pl.lit("labor").alias("category"),
        pl.col("role").alias("subcategory"),
        pl.col("currency").alias("source_currency"),
        pl.lit("person-days").alias("quantity_unit"),
        pl.lit("labor").alias("source"),
        pl.lit("hr").alias("provider"),
        pl.lit(AllocationMethod.LABOR_SHARE.value).alias("allocation_method"),
        pl.lit(1).cast(MONEY).alias("allocation_share"),
        pl.when(pl.col("model_id") == Bucket.UNALLOCATED.value).then(pl.lit("time_not_allocated")).alias("unallocated_reason"),
        pl.lit("").alias("split_key"),
    ))


def charge_parts(charges: pl.DataFrame, config: Config, period: str) -> pl.DataFrame:
    rows = charges.filter(
        (pl.col("service_start").dt.strftime("%Y-%m") <= period) & (pl.col("service_end").dt.strftime("%Y-%m") >= period)
    )
    if rows.is_empty():
        return empty_parts()
    known = config.model_ids
    rows = rows.with_columns(
        pl.date_ranges("service_start", "service_end", "1d").alias("days"),
        pl.col("amount").alias("source_amount"),
        pl.col("amount").alias("source_effective_amount"),
        (pl.col("load_id") + pl.lit(":") + pl.col("row_number").cast(pl.String)).alias("source_ref"),
    )
    spread = spread_evenly(rows, group=["source_ref"], days="days", amounts=["source_amount", "source_effective_amount"])
    spread = spread.filter(pl.col("charge_date").dt.strftime("%Y-%m") == period)
    registered = pl.col("model_id").is_in(known)
    return conform(spread.with_columns(
        pl.lit(period).alias("billing_period"),
        pl.when(registered).then(pl.col("model_id")).otherwise(pl.lit(Bucket.UNALLOCATED.value)).alias("model_id"),
        pl.when(pl.col("model_id").is_null()).then(pl.lit("no_model_on_charge"))
        .when(~registered).then(pl.lit("unregistered_model:") + pl.col("model_id")).alias("unallocated_reason"),
        pl.col("currency").alias("source_currency"),
        pl.lit(1).cast(QTY).alias("quantity"),
        pl.lit("days").alias("quantity_unit"),
        pl.lit("charges").alias("source"),
        pl.col("vendor").alias("provider"),
        pl.when(registered).then(pl.lit(AllocationMethod.SERVICE_PERIOD.value)).otherwise(pl.lit(AllocationMethod.UNALLOCATED.value)).alias("allocation_method"),
        pl.lit(1).cast(MONEY).alias("allocation_share"),
        pl.lit("").alias("split_key"),
    ))


def delay_parts(milestones: pl.DataFrame, config: Config, period: str, *, as_of: date) -> pl.DataFrame:
    days = month_days(period)
    first, last = days[0], min(days[-1], as_of)
    if last < first or milestones.is_empty():
        return empty_parts()
    late = milestones.with_columns(
        pl.max_horizontal(pl.col("planned_date") + timedelta(days=1), pl.lit(first)).alias("_from"),
        pl.min_horizontal(pl.coalesce("actual_date", pl.lit(as_of)), pl.lit(last)).alias("_to"),
    ).filter(pl.col("_from") <= pl.col("_to"))
    if late.is_empty():
        return empty_parts()
    late = late.with_columns(pl.date_ranges("_from", "_to", "1d").alias("charge_date")).explode("charge_date")
    known = pl.col("model_id").is_in(config.model_ids)
    return conform(late.with_columns(
        pl.lit(period).alias("billing_period"),
        pl.when(known).then(pl.col("model_id")).otherwise(pl.lit(Bucket.UNALLOCATED.value)).alias("model_id"),
        pl.when(~known).then(pl.lit("unregistered_model:") + pl.col("model_id")).alias("unallocated_reason"),
        pl.lit("time").alias("category"),
        pl.lit("delay").alias("subcategory"),
        pl.col("cost_of_delay_per_day").alias("source_amount"),
        pl.col("cost_of_delay_per_day").alias("source_effective_amount"),
        pl.col("currency").alias("source_currency"),
        pl.lit(1).cast(QTY).alias("quantity"),
        pl.lit("days late").alias("quantity_unit"),
        pl.lit("milestones").alias("source"),
        pl.lit("internal").alias("provider"),
        pl.lit(AllocationMethod.DELAY.value).alias("allocation_method"),
        pl.lit(1).cast(MONEY).alias("allocation_share"),
        (pl.col("load_id") + pl.lit(":") + pl.col("row_number").cast(pl.String)).alias("source_ref"),
        pl.col("milestone").alias("split_key"),
    ))
