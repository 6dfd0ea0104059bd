"""What a correct pipeline must find, written beside the demo's inbox from the plan itself:
truth.csv (cost per month, model and category), truth_budgets.csv, truth_plants.json and
truth_impact.csv."""

from __future__ import annotations

import json
from datetime import date, timedelta

from pipeline.generators.csvfiles import write_csv
from pipeline.generators.plan import (
    BUDGETS,
    EUR_RATES,
    IMPACT_WINDOW_DAYS,
    MODELS,
    MOVES,
    PLANTED_ACTIONS,
    SPIKE_DAY,
    SPIKE_EXTRA,
    TRAINING_DAYS,
    TRAINING_HOST,
    D,
    Estate,
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
    before = sum(estate.gpu_daily[(day - timedelta(days=i), model)] for i in range(1, window + 1)) / window
    after = sum(estate.gpu_daily[(day + timedelta(days=i), model)] for i in range(window)) / window
    # no GPU cost before the action (it falls outside the generated months): the change is undefined
    return [str(before), str(after), str(after / before - 1) if before else ""]
