"""The demo estate's plan: its models, GPUs and owned servers, who holds which GPU when, what is
planted for the impact report and the decision marts, and `Estate`, which sums the truth as each
input is written. Every other module of the demo reads its numbers from here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

D = Decimal
Q = D(1).scaleb(-18)
STEP = 300  # telemetry step, seconds
MODELS = {  # name, business line, team, owner
    "search-ranker": ("Search ranking", "search", "search-relevance", "head-of-search"),
    "query-rewrite-llm": ("Query rewrite LLM", "search", "search-relevance", "head-of-search"),
    "rec-retrieval": ("Recommendation retrieval", "recommendation", "recsys", "head-of-recsys"),
    "rec-ranker-llm": ("Recommendation ranking LLM", "recommendation", "recsys", "head-of-recsys"),
    "embeddings": ("Embeddings", "platform", "ml-platform", "head-of-platform"),
    "exp-moe": ("Mixture-of-experts experiment", "research", "applied-research", "head-of-research"),
}
# Planted: embeddings moves to the recommendation team on March 1st; its January and February
# cost stays with ml-platform (the dated registry keeps the history).
MOVES = {"embeddings": (date(2026, 3, 1), "recommendation", "recsys", "head-of-recsys")}
NAMESPACES = {
    "search-ranker": "search",
    "query-rewrite-llm": "qrewrite",
    "rec-retrieval": "recsys",
    "rec-ranker-llm": "recsys",
    "embeddings": "embed",
}
POOL_NODE_HOURLY = D("4.80")  # 4 GPUs x 12 samples an hour = 48 slots: 0.10 a slot
SUPPORT_WEIGHTS = {"search-ranker": 3, "rec-ranker-llm": 3, "query-rewrite-llm": 2, "rec-retrieval": 1, "embeddings": 1}
EUR_RATES = {1: D("1.0850"), 2: D("1.0900"), 3: D("1.0800")}
PUE, TARIFF = D("1.5"), D("0.12")
WATTS_BUSY, WATTS_IDLE = 300, 60  # multiples of 12: a 300 s sample is a whole number of Wh/1000
OPTIMISATION_DAY = date(2026, 2, 15)
# The optimisation log, with what each action really did (the impact report must find it):
# rec-ranker-llm: the second GPU held 4 h a day instead of 16 h, -30% GPU cost per request;
# search-ranker: logged, but nothing changed; query-rewrite-llm: two changes 4 days apart, each
# inside the other's window (confounded): its pool GPU held 08-20 h, then 08-14 h, then 08-12 h.
RIGHT_SIZING_DAY, AUTOSCALING_DAY, NO_EFFECT_DAY = date(2026, 3, 9), date(2026, 3, 13), date(2026, 3, 16)
# the optimisation log claims 30 % for the quantisation (the seed's claim); the others claim nothing
CLAIMS = {"rec-ranker-llm": "30"}
PLANTED_ACTIONS = [
    (
        OPTIMISATION_DAY,
        "rec-ranker-llm",
        "quantization",
        "INT8 weights: the second GPU is held 4 h a day instead of 16 h",
        "cut_30",
    ),
    (
        RIGHT_SIZING_DAY,
        "query-rewrite-llm",
        "right_sizing",
        "Serving window of the pool GPU cut from 12 h to 6 h a day",
        "confounded",
    ),
    (AUTOSCALING_DAY, "query-rewrite-llm", "autoscaling", "Scale to zero after 12:00", "confounded"),
    (
        NO_EFFECT_DAY,
        "search-ranker",
        "autoscaling",
        "HPA target changed; replicas never scaled (no real effect)",
        "no_effect",
    ),
]
IMPACT_WINDOW_DAYS = 14
ASSETS = [
    # asset_id, hostname, in service, life months, price, salvage, maintenance a month
    ("A-1001", "dc1-gpu-01", date(2025, 1, 1), 36, D("121500.00"), D("12000.00"), D("1500.00")),
    ("A-1002", "dc1-gpu-02", date(2025, 7, 1), 36, D("98000.00"), D("8000.00"), D("0.00")),
]


# Planted for the decision marts (truth_plants.json says what the marts must find):
# - a one-day spike: search-ranker's egress, 15.00 every day, is 1500.00 on SPIKE_DAY;
SPIKE_DAY, SPIKE_EXTRA = date(2026, 3, 24), D("1485.00")
# - the savings plan sp-1 commits 11.00 an hour; the usage it covers costs 4.80 (gpu-node-2) + 5.60
#   (gpu-node-3) an hour amortised, 6.00 + 8.00 at list prices; the unused 0.60 an hour is one
#   Unused row a day (14.40), kept in __shared__ by the `commitments` shared pool;
COMMITMENT_HOURLY = D("11.00")
COVERED_LIST = {"gpu-node-2": D("6.00"), "gpu-node-3": D("8.00")}
# - a fine-tuning run of rec-ranker-llm (namespace recsys-train) on the owned server dc1-gpu-02's
#   idle GPUs 2 and 3, all day, Monday 19 to Friday 23 January (its phase is asserted once the
#   ledger carries one);
TRAINING_HOST, TRAINING_GPUS, TRAINING_DAYS = "dc1-gpu-02", (2, 3), (date(2026, 1, 19), date(2026, 1, 23))
# - budgets (inbox/budgets/): the recsys team (embeddings with it from March) over its March
#   budget; the other lines within theirs.
BUDGETS = [
    # period, model_id, team, business_line, owner, category, amount, currency
    ("2026-03", "", "recsys", "", "", "", D("65000.00"), "USD"),
    ("2026-02", "", "recsys", "", "", "", D("90000.00"), "USD"),
    ("2026-03", "", "", "search", "", "hardware", D("12000.00"), "USD"),
    ("2026-03", "exp-moe", "", "", "", "hardware", D("3500.00"), "EUR"),
    ("2026-03", "", "", "", "", "", D("300000.00"), "USD"),
]


def training(host: str, gpu: int, day: date) -> bool:
    """True when the planted fine-tuning run holds the GPU that day."""
    return host == TRAINING_HOST and gpu in TRAINING_GPUS and TRAINING_DAYS[0] <= day <= TRAINING_DAYS[1]


@dataclass
class Estate:
    root: Path
    months: list[str]
    truth: dict[tuple[str, str, str], list[Decimal]] = field(default_factory=lambda: defaultdict(lambda: [D(0), D(0)]))
    gpu_daily: dict[tuple[date, str], Decimal] = field(
        default_factory=lambda: defaultdict(D)
    )  # effective GPU-time cost
    # labor as planted: (month, person id) -> employed pay; (quarter, person id) -> rate group;
    # (quarter, group) -> standard rate; (month, model) -> person ids with time on it (a model of
    # fewer than K_ANONYMITY people in a month is withheld). A quarter is named like 2026-Q1.
    pay: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    rate_group: dict[tuple[str, str], str] = field(default_factory=dict)
    rates: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    workers: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    plants: dict = field(default_factory=dict)  # what the decision marts must find (truth_plants.json)

    @property
    def as_of(self) -> date:
        """The day the estate is run as of (the 28th of its last month): open milestones accrue to it."""
        return date.fromisoformat(self.months[-1] + "-28")

    def add(self, day: date, model: str, category: str, billed: Decimal, effective: Decimal) -> None:
        cell = self.truth[(day.strftime("%Y-%m"), model, category)]
        cell[0] += billed
        cell[1] += effective


def days_of(months: list[str]) -> list[date]:
    first = date.fromisoformat(months[0] + "-01")
    last = date.fromisoformat(months[-1] + "-01")
    end = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [first + timedelta(days=i) for i in range((end - first).days)]


def split_quanta(amount_q: int, weights: dict[str, int]) -> dict[str, int]:
    """Reference largest-remainder split (ties: smallest key), on integer quanta."""
    total = sum(weights.values())
    base = {k: amount_q * w // total for k, w in weights.items()}
    remainder = {k: amount_q * w - base[k] * total for k, w in weights.items()}
    for k in sorted(weights, key=lambda k: (-remainder[k], k))[: amount_q - sum(base.values())]:
        base[k] += 1
    return base


def holders(host: str, gpu: int, day: date, hour_slot: int) -> str | None:
    """Who holds the GPU in the 5-minute slot (0..287) of the day: a model id, 'sandbox', or None."""
    hour = hour_slot // 12
    if host == "gpu-node-1":
        rewrite_until = (
            12 if day >= AUTOSCALING_DAY else 14 if day >= RIGHT_SIZING_DAY else 20
        )  # planted: confounded pair
        return {
            0: "search-ranker",
            1: "search-ranker",
            2: "query-rewrite-llm" if 8 <= hour < rewrite_until else None,
            3: "embeddings" if hour < 6 else None,
        }[gpu]
    if host == "gpu-node-2":
        ranker_until = 4 if day >= OPTIMISATION_DAY else 16  # the planted optimisation: -30% GPU-time
        return {
            0: "rec-ranker-llm",
            1: "rec-retrieval",
            2: "sandbox" if 10 <= hour < 12 else None,
            3: "rec-ranker-llm" if hour < ranker_until else None,
        }[gpu]
    if host == "dc1-gpu-01":
        return {
            0: "query-rewrite-llm",
            1: "query-rewrite-llm",
            2: "embeddings" if 9 <= hour < 21 else None,
            3: "embeddings" if 9 <= hour < 21 else None,
        }[gpu]
    if training(host, gpu, day):
        return "rec-ranker-llm"
    return {0: "rec-retrieval", 1: "rec-retrieval", 2: None, 3: None}[gpu]


# gpu-node-3 (A100, in the pool, covered by the savings plan) is shared finer than a whole GPU:
# GPU 0 is cut into MIG slices of 7 (3g: rec-retrieval all day; 2g: embeddings 06-18 h, else an idle
# slice; 1g: never used; the seventh slice is not configured); GPU 1 is time-sliced: embeddings and
# rec-retrieval share it 08-20 h (1/2 each), embeddings alone 20-24 h; GPU 2: a sandbox 14-16 h.
NODE3 = "gpu-node-3"
MIG_SLICES = 7
NODE3_HOURLY = D(
    "5.60"
)  # 4 GPUs in 1/14ths = 56 parts an hour: 0.10 a part, exact at any grain (Azure's daily rows too)


def node3_holders(gpu: int, hour_slot: int) -> list[tuple[dict[str, str], str | None, int, int]]:
    """Who holds what of gpu-node-3's GPU in the slot: (MIG labels, holder or None, num, den) per
    series; the fractions held, plus what no series holds (idle), make the whole GPU."""
    hour = hour_slot // 12
    if gpu == 0:
        return [
            ({"GPU_I_PROFILE": "3g.40gb", "GPU_I_ID": "1"}, "rec-retrieval", 3, MIG_SLICES),
            ({"GPU_I_PROFILE": "2g.20gb", "GPU_I_ID": "2"}, "embeddings" if 6 <= hour < 18 else None, 2, MIG_SLICES),
            ({"GPU_I_PROFILE": "1g.10gb", "GPU_I_ID": "3"}, None, 1, MIG_SLICES),
        ]
    if gpu == 1:
        if 8 <= hour < 20:
            return [({}, "embeddings", 1, 2), ({}, "rec-retrieval", 1, 2)]
        return [({}, "embeddings" if hour >= 20 else None, 1, 1)]
    return [({}, "sandbox" if gpu == 2 and 14 <= hour < 16 else None, 1, 1)]


def node3_weights(hour: int) -> dict[str, int]:
    """One hour of gpu-node-3 in 1/14 GPU x 5-minute slots (14 = lcm(7, 2)): the weights of its split."""
    weights: dict[str, int] = defaultdict(int)
    for gpu in range(4):
        held = 0
        for slot in range(hour * 12, hour * 12 + 12):
            for _, holder, num, den in node3_holders(gpu, slot):
                key = "__idle__" if holder is None else "__unallocated__" if holder == "sandbox" else holder
                weights[key] += 14 * num // den
                held += 14 * num // den
        weights["__idle__"] += 12 * 14 - held  # the unconfigured MIG slice
    return dict(weights)


def pod_labels(holder: str, gpu: int, *, train: bool = False) -> dict[str, str]:
    if train:
        return {"namespace": "recsys-train", "pod": f"ranker-finetune-{gpu}", "container": "trainer"}
    if holder == "sandbox":
        return {"namespace": "sandbox", "pod": "notebook-alice-0", "container": "jupyter"}
    prefix = {"rec-retrieval": "retrieval", "rec-ranker-llm": "ranker"}.get(holder, holder)
    return {"namespace": NAMESPACES[holder], "pod": f"{prefix}-{gpu}", "container": "server"}
