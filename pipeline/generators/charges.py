"""The demo's invoices and licences (inbox/charges/) and their cost in the truth, spread over the
days of service and, for licences, over the seats each model holds."""

from __future__ import annotations

from datetime import date, timedelta

from pipeline.generators.csvfiles import CHARGES_HEADER, LICENCES_HEADER, write_csv
from pipeline.generators.plan import D, Estate, Q, days_of, split_quanta

LICENCES = [
    # id, vendor, product, start, end, billing, amount, seats, seats by model
    (
        "LIC-1",
        "Acme Search Cloud",
        "semantic index",
        date(2026, 1, 1),
        date(2026, 12, 31),
        "term",
        D("36500.00"),
        10,
        {"search-ranker": 5, "rec-retrieval": 3},
    ),
    (
        "LIC-2",
        "Notebook Co",
        "notebooks",
        date(2026, 1, 1),
        date(2026, 3, 31),
        "monthly",
        D("310.00"),
        4,
        {"exp-moe": 2, "embeddings": 2},
    ),
]


def write_charges(estate: Estate) -> None:
    rows = [
        [
            "LC-2026-001",
            "LabelCo",
            "data",
            "labelling",
            "2026-01-15",
            "2026-02-14",
            "31000.00",
            "USD",
            "rec-ranker-llm",
            "Click-label relevance judgements",
        ],
        [
            "TR-2026-Q1",
            "Triton Enterprise",
            "software",
            "licence",
            "2026-01-01",
            "2026-03-31",
            "9000.00",
            "USD",
            "search-ranker",
            "Inference server licence, Q1",
        ],
    ]
    write_csv(
        estate.root / "inbox" / "charges" / "invoices.csv",
        CHARGES_HEADER,
        rows,
    )
    for _, _, category, _, service_start, service_end, invoiced, _, model, _ in rows:
        first, last = date.fromisoformat(service_start), date.fromisoformat(service_end)
        n = (last - first).days + 1
        for i in range(n):
            estate.add(first + timedelta(days=i), model, category, D(invoiced) / n, D(invoiced) / n)
    write_csv(
        estate.root / "inbox" / "charges" / "licences.csv",
        LICENCES_HEADER,
        [
            [i, v, p, s.isoformat(), e.isoformat(), b, str(a), "USD", n, ";".join(f"{m}={k}" for m, k in by.items())]
            for i, v, p, s, e, b, a, n, by in LICENCES
        ],
    )
    for _, _, _, start, end, billing, amount, seats, by_model in LICENCES:
        seat_weights = (
            dict(by_model) | {"__unallocated__": seats - sum(by_model.values())}
            if seats > sum(by_model.values())
            else dict(by_model)
        )
        for day in days_of(estate.months):
            if not start <= day <= end:
                continue
            if billing == "term":
                n, index = (end - start).days + 1, (day - start).days
            else:
                n, index = len(days_of([day.strftime("%Y-%m")])), day.day - 1
            base, extra = divmod(int(amount / Q), n)
            for model, q in split_quanta(base + (1 if index < extra else 0), seat_weights).items():
                estate.add(day, model, "software", D(q) * Q, D(q) * Q)
