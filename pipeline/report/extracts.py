"""The month's extracts beside the page: model_category, impact, recommendations and
daily_cost, each as CSV (safe to open in a spreadsheet, decimals in full) and Parquet (money as
DECIMAL(38, 18)), written whole or not at all.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Any

from pipeline.columns import MONEY_SCALE
from pipeline.extract_csv import csv_text
from pipeline.i18n import text
from pipeline.report.data import EXACT, ReportData, matrix_rows

EXTRACTS = ("model_category", "impact", "recommendations", "daily_cost")


def _dec(value: Decimal | None) -> Decimal | None:
    """A ratio quantised to the ledger's 18 decimals (half-even) so it fits DECIMAL(38, 18)."""
    if value is None:
        return None
    with localcontext(EXACT):
        return value.quantize(Decimal(1).scaleb(-MONEY_SCALE), rounding=ROUND_HALF_EVEN)


def extract_rows(data: ReportData, t: Any = None) -> dict[str, list[dict[str, Any]]]:
    """The extracts as rows: exact decimals stay Decimal; statistical estimates are floats; the
    recommendations' evidence is written in t's language."""
    t = t or text("en")
    cube = data.cube
    model_category = [
        {
            "month": data.month.key,
            "model_id": m,
            "category": c,
            "effective_cost": cube.cost(m, c),
            "billed_cost": cube.billed_cost(m, c),
            "currency": data.currency,
        }
        for m in cube.models()
        for c in cube.categories()
    ]
    impacts = [
        {
            "action_date": i.action.day,
            "model_id": i.action.model_id,
            "action": i.action.action,
            "scope": i.scope,
            "before_start": i.before.start,
            "after_start": i.after.start,
            "after_end": i.after.end,
            "days_before": len(i.before.days),
            "days_after": len(i.after.days),
            "before_per_1k_requests": _dec(i.change.before),
            "after_per_1k_requests": _dec(i.change.after),
            "change_per_1k_requests": _dec(i.change.absolute),
            "relative_change": _dec(i.change.relative),
            "ci95_low": i.change.low,
            "ci95_high": i.change.high,
            "did": i.did,
            "did_ci95_low": i.did_low,
            "did_ci95_high": i.did_high,
            "controls": ",".join(i.controls),
            "all_categories_relative_change": _dec(i.total.relative),
            "all_categories_ci95_low": i.total.low,
            "all_categories_ci95_high": i.total.high,
            "categories_moved": ",".join(c.category for c in i.categories if c.moved),
            "realised_saving": _dec(i.realised_saving),
            "verdict": i.verdict,
            "flags": ",".join(i.flags),
            "currency": data.currency,
        }
        for i in data.impacts
    ]
    recommendations = [
        {
            "month": data.month.key,
            "kind": r.kind,
            "subject": r.subject,
            "evidence": r.evidence_text(t),
            "amount": _dec(r.amount),
            "estimated_monthly_saving": _dec(r.saving),
            "currency": data.currency,
        }
        for r in data.recommendations
    ]
    daily = [
        {"charge_date": day, "model_id": model, "effective_cost": cost, "currency": data.currency}
        for day, model, cost in data.daily
    ]
    return {
        "model_category": model_category,
        "impact": impacts,
        "recommendations": recommendations,
        "daily_cost": daily,
    }


def model_category_csv(data: ReportData) -> str:
    """model_category.csv: the model x category table with exact decimals as text."""
    cube = data.cube
    rows = [[row["model_id"], *row["cells"], row["total"], data.currency] for row in matrix_rows(cube)]
    return csv_text(["model_id", *cube.categories(), "total", "currency"], rows)


def extract_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV safe to open in a spreadsheet; Decimals written in full (no exponent)."""
    if not rows:
        return ""
    return csv_text(list(rows[0]), [list(row.values()) for row in rows])


def extract_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Rows as Parquet, money as DECIMAL(38, 18); written whole or not at all."""
    import polars as pl

    schema: dict[str, Any] = {}
    for key in rows[0] if rows else []:
        values = [r[key] for r in rows if r[key] is not None]
        first = values[0] if values else None
        if isinstance(first, Decimal):
            schema[key] = pl.Decimal(38, MONEY_SCALE)
        elif isinstance(first, bool):
            schema[key] = pl.Boolean
        elif isinstance(first, int):
            schema[key] = pl.Int64
        elif isinstance(first, float):
            schema[key] = pl.Float64
        elif isinstance(first, date):
            schema[key] = pl.Date
        else:
            schema[key] = pl.String
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame()
    tmp = path.with_name(path.name + ".tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)
