"""The demo's smaller inputs: milestones (cost of delay), request volumes, the optimisation log,
FX rates and budgets."""

from __future__ import annotations

import random
from datetime import date

from pipeline.generators.csvfiles import write_csv
from pipeline.generators.plan import BUDGETS, CLAIMS, EUR_RATES, PLANTED_ACTIONS, D, Estate


def write_milestones(estate: Estate) -> None:
    rows = [
        ["rec-ranker-llm", "v2 launch", "2026-02-10", "2026-02-19", "2000.00", "USD", "2026-01-05"],
        ["search-ranker", "index refresh", "2026-01-20", "2026-01-20", "5000.00", "USD", "2026-01-02"],
        # still open: it accrues every night up to the run's as-of day (the demo runs as of the 28th)
        ["exp-moe", "pilot", estate.as_of.replace(day=25).isoformat(), "", "1000.00", "USD", "2026-02-01"],
    ]
    write_csv(
        estate.root / "inbox" / "milestones" / "milestones.csv",
        ["model_id", "milestone", "planned_date", "actual_date", "cost_of_delay_per_day", "currency", "started_date"],
        rows,
    )
    # cost of delay is opportunity cost: nobody bills it, so the truth's billed and effective (cash)
    # cost is 0; the ledger carries it in economic_cost (2000.00 and 1000.00 a day late)
    for day in range(11, 20):
        estate.add(date(2026, 2, day), "rec-ranker-llm", "time", D(0), D(0))
    for day in range(26, estate.as_of.day + 1):
        estate.add(estate.as_of.replace(day=day), "exp-moe", "time", D(0), D(0))


def write_usage(estate: Estate, days: list[date], rng: random.Random) -> None:
    volume = {
        "search-ranker": 4_000_000,
        "query-rewrite-llm": 900_000,
        "rec-retrieval": 2_500_000,
        "rec-ranker-llm": 1_200_000,
        "embeddings": 3_000_000,
        "exp-moe": 20_000,
    }
    llm = {"query-rewrite-llm", "rec-ranker-llm", "exp-moe"}
    rows = []
    for day in days:
        for model, base in volume.items():
            requests = base + rng.randrange(-base // 20, base // 20)
            rows.append(
                [
                    day.isoformat(),
                    model,
                    requests,
                    requests * 180 if model in llm else "",
                    requests * 40 if model in llm else "",
                ]
            )
    write_csv(
        estate.root / "inbox" / "usage" / "volumes.csv",
        ["usage_date", "model_id", "requests", "input_tokens", "output_tokens"],
        rows,
    )
    write_csv(
        estate.root / "inbox" / "optimizations" / "log.csv",
        ["action_date", "model_id", "action", "description", "claimed_saving_percent"],
        [
            [day.isoformat(), model, action, description, CLAIMS.get(model, "") if kind == "cut_30" else ""]
            for day, model, action, description, kind in PLANTED_ACTIONS
        ],
    )


def write_fx(estate: Estate, days: list[date]) -> None:
    write_csv(
        estate.root / "inbox" / "fx" / "rates.csv",
        ["rate_date", "currency", "rate"],
        [[day.isoformat(), "EUR", str(EUR_RATES[day.month])] for day in days],
    )


def write_budgets(estate: Estate) -> None:
    write_csv(
        estate.root / "inbox" / "budgets" / "budgets.csv",
        ["period", "model_id", "team", "business_line", "owner", "category", "amount", "currency"],
        [[p, m, t, b, o, c, str(a), cur] for p, m, t, b, o, c, a, cur in BUDGETS],
    )
