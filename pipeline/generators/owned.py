"""The demo's owned GPU servers: the asset register, and their depreciation, maintenance and
energy in the truth, split by who held each GPU (the planted fine-tuning run counted apart)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from pipeline.generators.csvfiles import ASSETS_HEADER, write_csv
from pipeline.generators.plan import (
    ASSETS,
    PUE,
    STEP,
    TARIFF,
    TRAINING_HOST,
    WATTS_BUSY,
    WATTS_IDLE,
    D,
    Estate,
    Q,
    holders,
    split_quanta,
)


def write_assets(estate: Estate, days: list[date]) -> None:
    rows = [
        [a, h, 4, s.isoformat(), life, str(p), str(salvage), str(m), "USD", ""]
        for a, h, s, life, p, salvage, m in ASSETS
    ]
    write_csv(
        estate.root / "inbox" / "assets" / "register.csv",
        ASSETS_HEADER,
        rows,
    )
    for _, host, start, life, price, salvage, maintenance in ASSETS:
        end = date(start.year + (start.month - 1 + life) // 12, (start.month - 1 + life) % 12 + 1, start.day)
        life_days = (end - start).days
        dep_base, dep_extra = divmod(int((price - salvage) / Q), life_days)
        for day in days:
            seconds: dict[str, int] = defaultdict(int)
            joules: dict[str, int] = defaultdict(int)
            for gpu in range(4):
                for slot in range(288):
                    holder = holders(host, gpu, day, slot)
                    key = "__idle__" if holder is None else holder
                    seconds[key] += STEP
                    joules[key] += (WATTS_IDLE if holder is None else WATTS_BUSY) * STEP
            index = (day - start).days
            dep_q = dep_base + (1 if index < dep_extra else 0)
            month_len = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
            m_base, m_extra = divmod(int(maintenance / Q), month_len)
            maint_q = m_base + (1 if day.day - 1 < m_extra else 0)
            trained = host == TRAINING_HOST and "rec-ranker-llm" in seconds
            run = estate.plants.setdefault("training", {"gpu_hours": D(0), "hardware": D(0), "operational": D(0)})
            if trained:
                run["gpu_hours"] += D(seconds["rec-ranker-llm"]) / 3600
            for amount_q in (dep_q, maint_q):
                if amount_q:
                    for model, q in split_quanta(amount_q, seconds).items():
                        estate.add(day, model, "hardware", D(q) * Q, D(q) * Q)
                        estate.gpu_daily[(day, model)] += D(q) * Q
                        if trained and model == "rec-ranker-llm":
                            run["hardware"] += D(q) * Q
            for model, j in joules.items():
                cost = D(j) / D(3_600_000) * PUE * TARIFF
                estate.add(day, model, "operational", cost, cost)
                if trained and model == "rec-ranker-llm":
                    run["operational"] += cost
