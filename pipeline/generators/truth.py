"""What a correct pipeline must find, written beside the demo's inbox from the plan itself:
truth.csv (cost per month, model and category), truth_budgets.csv, truth_plants.json and
truth_impact.csv; and what the bills add to it as they are planned (a GPU pool hour split by who
held the GPUs, the savings plan's commitment figures)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from pipeline.generators.csvfiles import write_csv
from pipeline.generators.plan import (
    BUDGETS,
    COMMITMENT_HOURLY,
    COVERED_LIST,
    EUR_RATES,
    IMPACT_WINDOW_DAYS,
    MODELS,
    MOVES,
    NODE3,
    NODE3_HOURLY,
    PLANTED_ACTIONS,
    POOL_NODE_HOURLY,
    SPIKE_DAY,
    SPIKE_EXTRA,
    TRAINING_DAYS,
    TRAINING_HOST,
    D,
    Estate,
    Q,
    holders,
    node3_weights,
    split_quanta,
)


def _team_of(model: str, month: str) -> tuple[str, str, str]:
    """(business line, team, owner) of a model in a month (the planted move is on a 1st)."""
    _, line, team, owner = MODELS[model]
    if model in MOVES and month >= MOVES[model][0].strftime("%Y-%m"):
        _, line, team, owner = MOVES[model]
    return line, team, owner


def _budget_truth(estate: Estate) -> list[list[str]]:
    """Each budget line's actual cost from the truth (a whole month: the demo's months are complete)."""
    rows = []
    for period, model, team, line, owner, category, amount, currency in BUDGETS:
        actual = D(0)
        for (month, m, cat), (_, effective) in estate.truth.items():
            if month != period or (category and cat != category):
                continue
            if m not in MODELS:
                if not (model or team or line or owner):
                    actual += effective
                continue
            m_line, m_team, m_owner = _team_of(m, month)
            wanted = ((model, m), (team, m_team), (line, m_line), (owner, m_owner))
            if any(asked and asked != found for asked, found in wanted):
                continue
            actual += effective
        rate = D(1) if currency == "USD" else EUR_RATES[int(period[5:])]
        budget = amount * rate
        rows.append(
            [
                period,
                model,
                team,
                line,
                owner,
                category or "all",
                str(budget),
                str(actual),
                str(actual - budget),
                "over" if actual > budget else "on_track",
            ]
        )
    return rows


def write_truth(estate: Estate) -> None:
    rows = [[m, model, cat, str(v[0]), str(v[1])] for (m, model, cat), v in sorted(estate.truth.items())]
    write_csv(estate.root / "truth.csv", ["month", "model_id", "category", "billed_cost", "effective_cost"], rows)
    write_csv(
        estate.root / "truth_budgets.csv",
        ["period", "model_id", "team", "business_line", "owner", "category", "budget", "actual", "overrun", "status"],
        _budget_truth(estate),
    )
    training = {k: str(v) for k, v in estate.plants["training"].items()}
    plants = {
        "anomaly": {
            "charge_date": SPIKE_DAY.isoformat(),
            "model_id": "search-ranker",
            "category": "operational",
            "actual": str(D("15.00") + SPIKE_EXTRA),
            "expected": "15.00",
        },
        "commitment": estate.plants.get("commitment", {}),
        "training": {
            "model_id": "rec-ranker-llm",
            "host": TRAINING_HOST,
            "namespace": "recsys-train",
            "first_day": TRAINING_DAYS[0].isoformat(),
            "last_day": TRAINING_DAYS[1].isoformat(),
            **training,
        },
        "move": {
            "model_id": "embeddings",
            "since": MOVES["embeddings"][0].isoformat(),
            "team_before": MODELS["embeddings"][2],
            "team_after": MOVES["embeddings"][2],
        },
    }
    (estate.root / "truth_plants.json").write_text(json.dumps(plants, indent=2) + "\n")
    write_csv(
        estate.root / "truth_impact.csv",
        [
            "action_date",
            "model_id",
            "action",
            "kind",
            "gpu_cost_per_day_before",
            "gpu_cost_per_day_after",
            "true_change",
        ],
        [
            [day.isoformat(), model, action, kind, *_true_gpu_change(estate, day, model)]
            for day, model, action, _, kind in PLANTED_ACTIONS
        ],
    )


def _true_gpu_change(estate: Estate, day: date, model: str) -> list[str]:
    """Mean GPU-time cost a day in the 14 days before and from `day`, and after / before - 1: the
    true change in GPU cost per request when requests are flat (they are: same distribution)."""
    window = IMPACT_WINDOW_DAYS
    before = sum((estate.gpu_daily[(day - timedelta(days=i), model)] for i in range(1, window + 1)), D(0)) / window
    after = sum((estate.gpu_daily[(day + timedelta(days=i), model)] for i in range(window)), D(0)) / window
    # no GPU cost before the action (it falls outside the generated months): the change is undefined
    return [str(before), str(after), str(after / before - 1) if before else ""]


def plant_commitment(estate: Estate, month: str, days: int) -> None:
    """What marts.commitments must find for sp-1 in the month, from the plan: per day, covered usage
    10.40 x 24 = 249.60 amortised (list 14.00 x 24 = 336.00), unused 14.40, and the other eligible
    Compute usage on demand: gpu-node-1 4.80 x 24 = 115.20, the CPU instances 345.75, the legacy
    ranker 2.00 (798.95 a day at list prices in all)."""
    hours = 24 * days
    used = (POOL_NODE_HOURLY + NODE3_HOURLY) * hours
    unused = (COMMITMENT_HOURLY - POOL_NODE_HOURLY - NODE3_HOURLY) * hours
    covered_list = sum(COVERED_LIST.values()) * hours
    on_demand = (POOL_NODE_HOURLY * 24 + D("345.75") + D("2.00")) * days
    eligible_list = covered_list + on_demand
    estate.plants.setdefault("commitment", {})[month] = {
        "commitment_id": "sp-1",
        "purchase_billed": str(COMMITMENT_HOURLY * hours),
        "used_cost": str(used),
        "unused_cost": str(unused),
        "covered_list_cost": str(covered_list),
        "eligible_list_cost": str(eligible_list),
        "utilisation": str(used / (used + unused)),
        "coverage": str(covered_list / eligible_list),
        "savings_vs_list": str(covered_list - used - unused),
        "effective_savings_rate_vs_list": str(1 - (used + unused + on_demand) / eligible_list),
    }


def pool_hour(estate: Estate, node: str, h0: datetime, billed: Decimal) -> None:
    """A GPU pool node's hour of cost in the truth, split by who held its GPUs (node 3: by the
    reference weights of its GPU slices)."""
    if node == NODE3:  # fractions of GPUs: the reference split of the hour's cost by 1/14 GPU-slots
        weights = node3_weights(h0.hour)
        for model, q in split_quanta(int(NODE3_HOURLY / Q), weights).items():
            estate.add(h0.date(), model, "hardware", D(0) if billed == 0 else D(q) * Q, D(q) * Q)
            estate.gpu_daily[(h0.date(), model)] += D(q) * Q
        assert billed == 0  # covered by the savings plan: billed 0.00, effective 5.60
        return
    per_slot_billed, per_slot_effective = billed / 48, POOL_NODE_HOURLY / 48
    counts: dict[str, int] = defaultdict(int)
    for gpu in range(4):
        for slot in range(h0.hour * 12, h0.hour * 12 + 12):
            holder = holders(node, gpu, h0.date(), slot)
            counts["__idle__" if holder is None else "__unallocated__" if holder == "sandbox" else holder] += 1
    for model, n in counts.items():
        estate.add(h0.date(), model, "hardware", per_slot_billed * n, per_slot_effective * n)
        estate.gpu_daily[(h0.date(), model)] += per_slot_effective * n
