"""Labor, vendor charges and delay: the costs that do not come from a bill or a GPU.

- Labor: each (month, model, labor cell) standard cost from staging.labor is spread evenly over
  the month's working days (declared weekdays, minus holidays).
- Charges: a vendor invoice is spread evenly over its service days; only the period's days stay.
- Licences: the register's amount spread evenly over the term's days (or each month's days for
  monthly billing), split across models by the seats each holds.
- Time: each day a milestone is late (after the planned day, up to the actual day, or up to the
  as-of day while still open) costs its cost of delay per day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from pipeline.columns import AllocationMethod, Bucket
from pipeline.config import Config
from pipeline.ledger.frame import QTY, conform, empty_parts, month_days, spread_evenly, working_days
from pipeline.money import MONEY, QUANTUM, allocation_share, split_exact


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
        pl.concat_str([pl.lit("labor"), "month", "model_id", "role", "currency"], separator=":").alias("source_ref"),
    )
    spread = spread_evenly(
        rows, group=["source_ref"], days="days", amounts=["source_amount", "source_effective_amount", "quantity"]
    )
    return conform(
        spread.with_columns(
            pl.lit(period).alias("billing_period"),
            pl.lit("labor").alias("category"),
            pl.col("role").alias("subcategory"),
            pl.col("currency").alias("source_currency"),
            pl.lit("person-days").alias("quantity_unit"),
            pl.lit("labor").alias("source"),
            pl.lit("hr").alias("provider"),
            pl.lit(AllocationMethod.LABOR_SHARE.value).alias("allocation_method"),
            pl.lit(1).cast(MONEY).alias("allocation_share"),
            pl.when(pl.col("model_id") == Bucket.UNALLOCATED.value)
            .then(pl.lit("time_not_allocated"))
            .alias("unallocated_reason"),
            pl.col("role").alias("split_key"),
        )
    )


def charge_parts(charges: pl.DataFrame, config: Config, period: str) -> pl.DataFrame:
    rows = charges.filter(
        (pl.col("service_start").dt.strftime("%Y-%m") <= period)
        & (pl.col("service_end").dt.strftime("%Y-%m") >= period)
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
    spread = spread_evenly(
        rows, group=["source_ref"], days="days", amounts=["source_amount", "source_effective_amount"]
    )
    spread = spread.filter(pl.col("charge_date").dt.strftime("%Y-%m") == period)
    registered = pl.col("model_id").is_in(known)
    return conform(
        spread.with_columns(
            pl.lit(period).alias("billing_period"),
            pl.when(registered).then(pl.col("model_id")).otherwise(pl.lit(Bucket.UNALLOCATED.value)).alias("model_id"),
            pl.when(pl.col("model_id").is_null())
            .then(pl.lit("no_model_on_charge"))
            .when(~registered)
            .then(pl.lit("unregistered_model:") + pl.col("model_id"))
            .alias("unallocated_reason"),
            pl.col("currency").alias("source_currency"),
            pl.lit(1).cast(QTY).alias("quantity"),
            pl.lit("days").alias("quantity_unit"),
            pl.lit("charges").alias("source"),
            pl.col("vendor").alias("provider"),
            pl.when(registered)
            .then(pl.lit(AllocationMethod.SERVICE_PERIOD.value))
            .otherwise(pl.lit(AllocationMethod.UNALLOCATED.value))
            .alias("allocation_method"),
            pl.lit(1).cast(MONEY).alias("allocation_share"),
            pl.lit("").alias("split_key"),
        )
    )


def delay_parts(milestones: pl.DataFrame, config: Config, period: str, *, as_of: date) -> pl.DataFrame:
    days = month_days(period)
    first, last = days[0], min(days[-1], as_of)
    if last < first or milestones.is_empty():
        return empty_parts()
    if "cancelled_date" not in milestones.columns:
        milestones = milestones.with_columns(pl.lit(None, dtype=pl.Date).alias("cancelled_date"))
    # late from the day after the planned day to delivery (open: the run date), and never from
    # the day the work was cancelled on (the model is no longer planned, so no delay accrues)
    late = milestones.with_columns(
        pl.max_horizontal(pl.col("planned_date") + timedelta(days=1), pl.lit(first)).alias("_from"),
        pl.min_horizontal(
            pl.coalesce("actual_date", pl.lit(as_of)),
            pl.lit(last),
            pl.coalesce(pl.col("cancelled_date") - timedelta(days=1), pl.lit(last)),
        ).alias("_to"),
    ).filter(pl.col("_from") <= pl.col("_to"))
    if late.is_empty():
        return empty_parts()
    late = late.with_columns(pl.date_ranges("_from", "_to", "1d").alias("charge_date")).explode("charge_date")
    known = pl.col("model_id").is_in(config.model_ids)
    return conform(
        late.with_columns(
            pl.lit(period).alias("billing_period"),
            pl.when(known).then(pl.col("model_id")).otherwise(pl.lit(Bucket.UNALLOCATED.value)).alias("model_id"),
            pl.when(~known).then(pl.lit("unregistered_model:") + pl.col("model_id")).alias("unallocated_reason"),
            pl.lit("time").alias("category"),
            pl.lit("delay").alias("subcategory"),
            # opportunity cost: nothing billed; the amount rides as the effective amount, and the
            # ledger carries it as economic_cost only (sql/ledger/passes/ledger_rows.sql)
            pl.lit(0).cast(MONEY).alias("source_amount"),
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
        )
    )


def _even_quanta(total: Decimal, days: int, index: int) -> int:
    """Quanta on the index-th of `days` days when `total` is spread evenly (first days +1)."""
    base, extra = divmod(int(total / QUANTUM), days)
    return base + (1 if index < extra else 0)


def _seat_weights(licence: dict, known: list[str]) -> list[tuple[str, str | None, int]]:
    """(model_id, unallocated_reason, seats) for a licence; unassigned seats are __unallocated__."""
    parts: list[tuple[str, str | None, int]] = []
    assigned = 0
    for pair in filter(None, (p.strip() for p in (licence["seats_by_model"] or "").split(";"))):
        model, seats = (x.strip() for x in pair.split("="))
        assigned += int(seats)
        if model in known:
            parts.append((model, None, int(seats)))
        else:
            parts.append((Bucket.UNALLOCATED.value, f"unregistered_model:{model}", int(seats)))
    if licence["seats"] > assigned:
        parts.append((Bucket.UNALLOCATED.value, "unassigned_seats", licence["seats"] - assigned))
    return parts


def licence_parts(licences: pl.DataFrame, config: Config, period: str) -> pl.DataFrame:
    """Licences amortised per day (over the term, or over each month for monthly billing), split
    across models by seats."""
    records = []
    for lic in licences.iter_rows(named=True):
        term_days = (lic["term_end"] - lic["term_start"]).days + 1
        for day in month_days(period):
            if not lic["term_start"] <= day <= lic["term_end"]:
                continue
            if lic["billing"] == "term":
                quanta = _even_quanta(lic["amount"], term_days, (day - lic["term_start"]).days)
            else:
                quanta = _even_quanta(lic["amount"], len(month_days(period)), day.day - 1)
            for model, reason, seats in _seat_weights(lic, config.model_ids):
                records.append(
                    {
                        "charge_date": day,
                        "model_id": model,
                        "unallocated_reason": reason,
                        "w": seats,
                        "source_amount": Decimal(quanta) * QUANTUM,
                        "source_currency": lic["currency"],
                        "provider": lic["vendor"],
                        "source_ref": f"{lic['load_id']}:{lic['row_number']}",
                        "licence": lic["licence_id"],
                    }
                )
    if not records:
        return empty_parts()
    frame = pl.DataFrame(records, schema_overrides={"source_amount": MONEY, "w": pl.Int64})
    frame = frame.with_columns(
        pl.col("source_amount").alias("source_effective_amount"),
        allocation_share(pl.col("w"), pl.col("w").sum().over("source_ref", "charge_date")).alias("allocation_share"),
        pl.col("w").cast(QTY).alias("quantity"),
    )
    split = split_exact(
        frame.lazy(),
        group=["source_ref", "charge_date"],
        key=["model_id", "unallocated_reason"],
        weight="w",
        amounts=["source_amount", "source_effective_amount"],
    ).collect()
    return conform(
        split.with_columns(
            pl.lit(period).alias("billing_period"),
            pl.lit("software").alias("category"),
            pl.lit("licence").alias("subcategory"),
            pl.lit("seats").alias("quantity_unit"),
            pl.lit("charges").alias("source"),
            pl.lit(AllocationMethod.SERVICE_PERIOD.value).alias("allocation_method"),
            (pl.col("model_id") + pl.lit("|") + pl.col("unallocated_reason").fill_null("")).alias("split_key"),
        )
    )
