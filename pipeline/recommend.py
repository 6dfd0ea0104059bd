"""Recommendations with estimated monthly savings, read from the published warehouse.

1. GPU nodes whose idle share of paid GPU cost is above `idle_threshold`: saving = idle cost -
   threshold x the node's GPU cost (the idle money above the target). Owned servers are listed,
   but their cost is sunk: saving 0 (move cloud work onto them instead).
2. Models whose GPUs are busy on average less than `low_utilisation` percent: the GPUs they need
   at `target_utilisation` = held GPU-hours x mean utilisation / target; saving = their GPU cost
   x (1 - needed / held): fewer replicas or a smaller GPU.
3. On-demand GPU node hours a commitment would have covered: the lowest hourly on-demand cost of
   the pool's nodes over the month (what ran every hour) x the hours of the month; saving = that x
   `commitment_discount` (an assumption, stated in the report).
4. Spend no model carries, by billing account (`__unallocated__` billing rows): tag it. No saving
   is claimed; the amount is what tagging would make visible.
Every amount is an exact `Decimal`; utilisation percentages are measurements (floats). The evidence
is an i18n key with its values, so the report says it in its own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from typing import Any

import duckdb

from pipeline import warehouse
from pipeline.display import format_money
from pipeline.i18n import text
from pipeline.patterns import full_match

EXACT = Context(prec=80)
IDLE_THRESHOLD = Decimal("0.20")
LOW_UTILISATION = 40.0
TARGET_UTILISATION = 70.0
COMMITMENT_DISCOUNT = Decimal("0.30")


@dataclass(frozen=True)
class Recommendation:
    """One recommendation: what, where, the evidence, and the estimated monthly saving."""

    kind: str  # idle_gpu, low_utilisation, commitment, untagged
    subject: str
    evidence_key: str  # a pipeline.i18n key ...
    evidence_values: tuple[tuple[str, Any], ...]  # ... and the values it is filled in with
    amount: Decimal  # the money concerned in the month
    saving: Decimal  # estimated monthly saving (0 when none is claimed)

    def evidence_text(self, t: Any = None) -> str:
        """The evidence in t's language (English by default)."""
        return (t or text("en"))(self.evidence_key, **dict(self.evidence_values))

    @property
    def evidence(self) -> str:
        """The evidence in English."""
        return self.evidence_text()


# The recommendations read the published warehouse, with queries of sql/report/.
_HOST_GPU_SQL = warehouse.sql_text("report", "gpu_cost_by_host")
_MODEL_GPU_SQL = warehouse.sql_text("report", "gpu_cost_by_model")
_WORKLOAD_UTIL_SQL = warehouse.sql_text("report", "gpu_utilisation_by_workload")
_ON_DEMAND_SQL = warehouse.sql_text("report", "on_demand_hours")
_UNTAGGED_SQL = warehouse.sql_text("report", "unallocated_by_account")


def idle_gpu(rows: list[dict[str, Any]], *, threshold: Decimal = IDLE_THRESHOLD) -> list[Recommendation]:
    """Nodes whose idle GPU cost is above `threshold` of their GPU cost."""
    out = []
    for r in rows:
        if not r["gpu_cost"] or r["gpu_cost"] <= 0:
            continue
        with localcontext(EXACT):
            share = r["idle_cost"] / r["gpu_cost"]
            excess = r["idle_cost"] - threshold * r["gpu_cost"]
        if share <= threshold:
            continue
        key = "ev_idle_cloud" if r["cloud"] else "ev_idle_owned"
        values = (("share", float(share) * 100), ("target", float(threshold) * 100))
        out.append(
            Recommendation(
                "idle_gpu", r["host"] or "?", key, values, r["idle_cost"], excess if r["cloud"] else Decimal(0)
            )
        )
    return out


def workload_model(namespace: str, pod: str, rules: list[Any]) -> str | None:
    """The model of a workload: the first rule whose namespace and pod patterns match in full (on
    the linear-time engine the ledger uses)."""
    for rule in rules:
        if namespace is not None and full_match(rule.namespace, namespace) and full_match(rule.pod_pattern, pod or ""):
            return rule.model
    return None


def low_utilisation(
    models: list[dict[str, Any]],
    utilisation: dict[str, float],
    *,
    low: float = LOW_UTILISATION,
    target: float = TARGET_UTILISATION,
) -> list[Recommendation]:
    """Models whose time-weighted GPU utilisation is under `low` percent."""
    out = []
    for r in models:
        util = utilisation.get(r["model_id"])
        if util is None or util >= low or not r["gpu_hours"] or r["gpu_cost"] <= 0:
            continue
        with localcontext(EXACT):
            needed = (r["gpu_hours"] * Decimal(repr(util)) / Decimal(repr(target))).quantize(
                Decimal(1), rounding=ROUND_CEILING
            )
            needed = max(needed, Decimal(1))
            saving = r["gpu_cost"] * (1 - needed / r["gpu_hours"]) if needed < r["gpu_hours"] else Decimal(0)
        values = (("util", util), ("hours", r["gpu_hours"]), ("target", target), ("needed", needed))
        out.append(
            Recommendation("low_utilisation", r["model_id"], "ev_low_utilisation", values, r["gpu_cost"], saving)
        )
    return out


def commitment(
    hours: int,
    baseline: Decimal | None,
    on_demand: Decimal | None,
    hours_in_month: int,
    *,
    discount: Decimal = COMMITMENT_DISCOUNT,
    pool: str = "",
) -> list[Recommendation]:
    """On-demand node hours that ran every hour of the month: a commitment would cover them."""
    if not hours or baseline is None or baseline <= 0 or on_demand is None:
        return []
    if hours < hours_in_month:  # an hour without on-demand use: nothing ran all month
        return []
    with localcontext(EXACT):
        covered = baseline * hours_in_month
        saving = covered * discount
    values = (("hours", hours), ("baseline", format_money(baseline)), ("discount", float(discount) * 100))
    return [Recommendation("commitment", pool, "ev_commitment", values, covered, saving)]


def untagged(rows: list[dict[str, Any]]) -> list[Recommendation]:
    """Billing accounts whose spend no model carries."""
    return [
        Recommendation(
            "untagged",
            f"{r['account'] or '?'} ({r['account_name'] or ''})".strip(),
            "ev_untagged",
            (("reasons", r["reasons"] or "?"),),
            r["effective_cost"],
            Decimal(0),
        )
        for r in rows
        if r["effective_cost"]
    ]


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def recommend(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    start: date,
    end: date,
    workloads: Sequence[Any] = (),
    gpu_pools: Sequence[Any] = (),
    idle_threshold: Decimal = IDLE_THRESHOLD,
    commitment_discount: Decimal = COMMITMENT_DISCOUNT,
    low: float = LOW_UTILISATION,
    target: float = TARGET_UTILISATION,
) -> list[Recommendation]:
    """All recommendations of the month, largest estimated saving first."""
    p = {"start": start, "end": end, "month": month}
    out = idle_gpu(_query(con, _HOST_GPU_SQL, p), threshold=idle_threshold)
    seconds: dict[str, float] = {}
    busy: dict[str, float] = {}
    for r in _query(con, _WORKLOAD_UTIL_SQL, p):
        model = workload_model(r["namespace"], r["pod"], list(workloads))
        if model is not None and r["seconds"]:
            seconds[model] = seconds.get(model, 0.0) + float(r["seconds"])
            busy[model] = busy.get(model, 0.0) + float(r["util_seconds"] or 0.0)
    util = {m: busy[m] / s for m, s in seconds.items() if s}
    out += low_utilisation(_query(con, _MODEL_GPU_SQL, p), util, low=low, target=target)
    hours_in_month = (end - start).days * 24
    for pool in gpu_pools:
        row = _query(con, _ON_DEMAND_SQL, p | {"pattern": pool.node_pattern})[0]
        out += commitment(
            row["hours"],
            row["baseline"],
            row["on_demand_cost"],
            hours_in_month,
            discount=commitment_discount,
            pool=pool.name,
        )
    out += untagged(_query(con, _UNTAGGED_SQL, p))
    return sorted(out, key=lambda r: (-r.saving, -r.amount, r.kind, r.subject))
