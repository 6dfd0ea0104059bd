"""A seeded, deterministic demo estate with known truth.

It writes a workspace (config + inbox) for an online retailer serving six models on a shared
cloud GPU node pool and two owned GPU servers, and beside the inputs `truth.csv`: the cost per
month, model and category that a correct pipeline must reproduce exactly. The truth is computed
here from the plan itself (what was planted), not by the pipeline's code. Labor is at standard
rates: the generator rates its own people (see _labor) and keeps what it planted on the Estate
(people's pay, rate groups, rates, who works on which model) for the privacy tests. Beside
the truth, `truth_impact.csv` (what each optimisation really did), `truth_budgets.csv` (each budget
line's actual cost) and `truth_plants.json` (a one-day spike, a savings plan's utilisation and
coverage, a training run on a serving model, a team move) for the decision marts."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from pipeline.generators.formats import write_billing
from pipeline.progress import Progress, count
from pipeline.workspace import Workspace

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


def _days(months: list[str]) -> list[date]:
    first = date.fromisoformat(months[0] + "-01")
    last = date.fromisoformat(months[-1] + "-01")
    end = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [first + timedelta(days=i) for i in range((end - first).days)]


def _split(amount_q: int, weights: dict[str, int]) -> dict[str, int]:
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


def _node3_weights(hour: int) -> dict[str, int]:
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


def _pod(holder: str, gpu: int, *, train: bool = False) -> dict[str, str]:
    if train:
        return {"namespace": "recsys-train", "pod": f"ranker-finetune-{gpu}", "container": "trainer"}
    if holder == "sandbox":
        return {"namespace": "sandbox", "pod": "notebook-alice-0", "container": "jupyter"}
    prefix = {"rec-retrieval": "retrieval", "rec-ranker-llm": "ranker"}.get(holder, holder)
    return {"namespace": NAMESPACES[holder], "pod": f"{prefix}-{gpu}", "container": "server"}


CONFIG = """\
reporting_currency = "USD"
telemetry_step_seconds = 300

{models}
[attribution]
tag_keys = ["model", "app"]

[[attribution.rules]]
field = "SubAccountId"
pattern = "acct-exp"
model = "exp-moe"

[[workloads]]
namespace = "search"
model = "search-ranker"

[[workloads]]
namespace = "qrewrite"
model = "query-rewrite-llm"

[[workloads]]
namespace = "recsys"
pod_pattern = "retrieval-.*"
model = "rec-retrieval"

[[workloads]]
namespace = "recsys"
pod_pattern = "ranker-.*"
model = "rec-ranker-llm"

[[workloads]]
namespace = "embed"
model = "embeddings"

[[workloads]]
namespace = "recsys-train"
model = "rec-ranker-llm"
phase = "fine_tuning"      # a training run of a serving model: not in its serving unit costs

[[gpu_pools]]
name = "eks-gpu"
node_pattern = "gpu-node-[0-9]+"
gpus_per_node = 4

[[shared_pools]]
name = "support"
service_name = "AWS Support.*"
policy = "fixed"
weights = {weights}

[[shared_pools]]
name = "tax"
charge_category = "Tax"
policy = "keep"

[[shared_pools]]
name = "commitments"
service_name = "Savings Plans.*"
policy = "keep"

[owned]
pue = "1.5"
tariff_per_kwh = "0.12"
tariff_currency = "USD"

[labor]
k_anonymity = 3
rate_period = "quarter"
families = {families}

[ingest]
settle_seconds = 0   # generated files are complete when the generator returns: read them at once
"""


def _config_text() -> str:
    models = ""
    for i, (n, b, t, o) in MODELS.items():
        models += f'[[models]]\nid = "{i}"\nname = "{n}"\nbusiness_line = "{b}"\nteam = "{t}"\nowner = "{o}"\n\n'
        if i in MOVES:
            since, b2, t2, o2 = MOVES[i]
            models += (
                f'[[models.moves]]\nsince = {since.isoformat()}\nbusiness_line = "{b2}"\n'
                f'team = "{t2}"\nowner = "{o2}"\n\n'
            )
    weights = "{ " + ", ".join(f'"{k}" = {v}' for k, v in SUPPORT_WEIGHTS.items()) + " }"
    families = "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in FAMILIES.items()) + " }"
    return CONFIG.format(models=models, weights=weights, families=families)


def generate_estate(
    root: Path | str,
    *,
    seed: int = 7,
    months: tuple[str, ...] = ("2026-01", "2026-02", "2026-03"),
    billing_format: str = "focus",
    progress: Progress | None = None,
) -> Estate:
    """Write the estate's workspace; each input family is a line of `progress` once written."""
    root = Path(root)
    progress = progress or Progress()
    Workspace.init(root, config_text=_config_text())
    estate = Estate(root=root, months=list(months))
    rng = random.Random(seed)
    days = _days(estate.months)
    steps = [
        ("billing", lambda: _billing(estate, days, billing_format)),
        ("telemetry", lambda: _telemetry(estate, days)),
        ("assets", lambda: _owned(estate, days)),
        ("labor", lambda: _labor(estate, rng)),
        ("charges", lambda: _charges(estate)),
        ("milestones", lambda: _milestones(estate)),
        # own stream: volumes do not shift when other inputs draw more
        ("usage", lambda: _usage(estate, days, random.Random(seed * 1_000_003 + 17))),
        ("fx", lambda: _fx(estate, days)),
        ("budgets", lambda: _budgets(estate)),
    ]
    progress.phase(f"generating a {len(estate.months)}-month estate", len(steps))
    inbox = lambda: sum(1 for f in (root / "inbox").rglob("*") if f.is_file())  # noqa: E731
    for name, write in steps:
        before = inbox()
        write()
        progress.item(f"{name}: {count(inbox() - before, 'file')}")
    _write_truth(estate)
    return estate


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# The HR files' headers, as the labor adapter reads them (people with pay; allocations by month).
PEOPLE_HEADER = [
    "person_id",
    "name",
    "role",
    "cost_centre",
    "monthly_salary",
    "benefits",
    "employer_taxes",
    "currency",
    "start_date",
    "end_date",
]
ALLOCATIONS_HEADER = ["month", "person_id", "model_id", "percent"]


def write_private_csvs(folder: Path, files: dict[str, tuple[list[str], list[list]]]) -> None:
    """HR files (name -> header, rows) written owner-only: they hold names and pay, and the
    README asks the same of users (files 0600 in a 0700 folder)."""
    for name, (header, rows) in files.items():
        _write_csv(folder / name, header, rows)
    folder.chmod(0o700)
    for path in folder.iterdir():
        path.chmod(0o600)


FOCUS_HEADER = [
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "PricingCurrency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "InvoiceId",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "CommitmentDiscountId",
    "CommitmentDiscountType",
    "Tags",
    "CommitmentDiscountStatus",
]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _billing(estate: Estate, days: list[date], billing_format: str = "focus") -> None:
    for month in estate.months:
        start = datetime.fromisoformat(month + "-01")
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_days = [d for d in days if d.strftime("%Y-%m") == month]
        aws, azure = [], []

        def row(
            provider: str,
            charge_start: datetime,
            charge_end: datetime,
            category: str,
            description: str,
            billed: Decimal,
            effective: Decimal,
            service_category: str,
            service_name: str,
            tags: dict | None = None,
            *,
            resource: str = "",
            frequency: str = "Usage-Based",
            publisher: str | None = None,
            commitment: str = "",
            sub_account: str = "",
            list_cost: Decimal | None = None,
            status: str = "",
        ) -> list:
            aws_side = provider == "AWS"
            issuer = "Amazon Web Services, Inc." if aws_side else "Microsoft"
            return [
                "111111111111" if aws_side else "ea-0001",
                "Retail Prod" if aws_side else "Retail EA",
                sub_account or ("222222222222" if aws_side else "acct-shared"),
                "ml-serving" if aws_side else "shared",
                # B023: row() is only called within this month's iteration, so start and end are this month's
                _ts(start),  # noqa: B023
                _ts(end),  # noqa: B023
                _ts(charge_start),
                _ts(charge_end),
                category,
                "",
                description,
                frequency,
                str(billed),
                str(effective),
                str(billed if list_cost is None else list_cost),
                str(billed if list_cost is None else list_cost),
                "USD" if aws_side else "EUR",
                "USD" if aws_side else "EUR",
                "1",
                "Hours",
                provider,
                publisher or issuer,
                issuer,
                "",
                "us-east-1" if aws_side else "westeurope",
                f"{resource or 'r'}-{service_name[:8]}",
                resource,
                "",
                service_category,
                service_name,
                "SKU1",
                "SKU1-P1"
                if category in ("Usage", "Purchase")
                else "",  # FOCUS: a price id on usage and purchases, none on tax
                commitment,
                "Savings Plan" if commitment else "",
                json.dumps(tags) if tags else "",
                status or ("Used" if commitment and category == "Usage" else ""),
            ]

        for day in month_days:
            d0 = datetime.combine(day, datetime.min.time())
            d1 = d0 + timedelta(days=1)
            for hour in range(24):
                h0 = d0 + timedelta(hours=hour)
                for node, covered in (("gpu-node-1", False), ("gpu-node-2", True), (NODE3, True)):
                    hourly = NODE3_HOURLY if node == NODE3 else POOL_NODE_HOURLY
                    billed = D("0.00") if covered else hourly
                    aws.append(
                        row(
                            "AWS",
                            h0,
                            h0 + timedelta(hours=1),
                            "Usage",
                            "p4de GPU instance hour" if node == NODE3 else "g5.12xlarge GPU instance hour",
                            billed,
                            hourly,
                            "Compute",
                            "Amazon Elastic Compute Cloud",
                            resource=node,
                            commitment="sp-1" if covered else "",
                            list_cost=COVERED_LIST.get(node) if covered else None,
                        )
                    )
                    _truth_pool_hour(estate, node, h0, billed)
            for model, cost in (
                ("search-ranker", "120.00"),
                ("query-rewrite-llm", "40.00"),
                ("rec-retrieval", "95.50"),
                ("rec-ranker-llm", "60.25"),
                ("embeddings", "30.00"),
            ):
                key = " Model " if model == "embeddings" else "model"  # tag keys arrive with odd case and spaces
                aws.append(
                    row(
                        "AWS",
                        d0,
                        d1,
                        "Usage",
                        "c6i.4xlarge instance hours",
                        D(cost),
                        D(cost),
                        "Compute",
                        "Amazon Elastic Compute Cloud",
                        {key: model},
                        resource=f"cpu-{model}",
                    )
                )
                estate.add(day, model, "hardware", D(cost), D(cost))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "S3 standard storage",
                    D("12.34"),
                    D("12.34"),
                    "Storage",
                    "Amazon Simple Storage Service",
                    {"model": "embeddings"},
                )
            )
            estate.add(day, "embeddings", "hardware", D("12.34"), D("12.34"))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "S3 training data",
                    D("20.00"),
                    D("20.00"),
                    "Storage",
                    "Amazon Simple Storage Service",
                    {"model": "rec-ranker-llm", "cost_category": "data"},
                )
            )
            estate.add(day, "rec-ranker-llm", "data", D("20.00"), D("20.00"))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "Data transfer out",
                    D("15.00"),
                    D("15.00"),
                    "Networking",
                    "AWS Data Transfer",
                    {"model": "search-ranker"},
                )
            )
            estate.add(day, "search-ranker", "operational", D("15.00"), D("15.00"))
            if day == SPIKE_DAY:  # planted: a crawler burst, one day
                aws.append(
                    row(
                        "AWS",
                        d0,
                        d1,
                        "Usage",
                        "Data transfer out (crawler burst)",
                        SPIKE_EXTRA,
                        SPIKE_EXTRA,
                        "Networking",
                        "AWS Data Transfer",
                        {"model": "search-ranker"},
                    )
                )
                estate.add(day, "search-ranker", "operational", SPIKE_EXTRA, SPIKE_EXTRA)
            # the savings plan's unused commitment of the day: 24 h x (11.00 - 4.80 - 5.60) = 14.40
            unused = (COMMITMENT_HOURLY - POOL_NODE_HOURLY - NODE3_HOURLY) * 24
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "Unused savings plan commitment",
                    D("0.00"),
                    unused,
                    "Compute",
                    "Savings Plans for AWS Compute usage",
                    commitment="sp-1",
                    list_cost=D("0.00"),
                    status="Unused",
                )
            )
            estate.add(day, "__shared__", "hardware", D("0.00"), unused)
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "CloudWatch metrics",
                    D("5.00"),
                    D("5.00"),
                    "Management and Governance",
                    "Amazon CloudWatch",
                )
            )
            estate.add(day, "__unallocated__", "operational", D("5.00"), D("5.00"))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "Legacy ranker instance",
                    D("2.00"),
                    D("2.00"),
                    "Compute",
                    "Amazon Elastic Compute Cloud",
                    {"model": "legacy-ranker"},
                )
            )
            estate.add(day, "__unallocated__", "hardware", D("2.00"), D("2.00"))
            eur_rate = EUR_RATES[day.month]
            azure.append(
                row(
                    "Microsoft",
                    d0,
                    d1,
                    "Usage",
                    "NC A100 v4 GPU VM",
                    D("96.00"),
                    D("96.00"),
                    "Compute",
                    "Virtual Machines",
                    sub_account="acct-exp",
                )
            )
            estate.add(day, "exp-moe", "hardware", D("96.00") * eur_rate, D("96.00") * eur_rate)
            azure.append(
                row(
                    "Microsoft",
                    d0,
                    d1,
                    "Usage",
                    "Blob storage",
                    D("8.00"),
                    D("8.00"),
                    "Storage",
                    "Storage",
                    {"app": "exp-moe"},
                )
            )
            estate.add(day, "exp-moe", "hardware", D("8.00") * eur_rate, D("8.00") * eur_rate)
        first_day = month_days[0]
        aws.append(
            row(
                "AWS",
                start,
                end,
                "Usage",
                "Business support",
                D("900.00"),
                D("900.00"),
                "Management and Governance",
                "AWS Support (Business)",
                frequency="Recurring",
            )
        )
        for model, amount in _split(int(D("900.00") / Q), SUPPORT_WEIGHTS).items():
            estate.add(first_day, model, "software", D(amount) * Q, D(amount) * Q)
        aws.append(
            row(
                "AWS",
                start,
                end,
                "Usage",
                "Vector DB licence",
                D("1500.00"),
                D("1500.00"),
                "Databases",
                "Acme Vector DB",
                {"model": "rec-retrieval"},
                frequency="Recurring",
                publisher="Acme Vector DB Inc.",
            )
        )
        estate.add(first_day, "rec-retrieval", "software", D("1500.00"), D("1500.00"))
        aws.append(
            row("AWS", start, end, "Tax", "Sales tax", D("250.00"), D("250.00"), "", "Tax", frequency="Recurring")
        )
        estate.add(first_day, "__shared__", "operational", D("250.00"), D("250.00"))
        fee = COMMITMENT_HOURLY * 24 * len(month_days)  # the commitment: 11.00 an hour, every hour of the month
        aws.append(
            row(
                "AWS",
                start,
                start,
                "Purchase",
                "Compute savings plan, monthly fee",
                fee,
                D("0.00"),
                "Compute",
                "Savings Plans for AWS Compute usage",
                frequency="Recurring",
                commitment="sp-1",
            )
        )
        estate.add(first_day, "__shared__", "hardware", fee, D("0.00"))
        _plant_commitment(estate, month, len(month_days))
        credit_day = datetime.combine(month_days[9], datetime.min.time())
        aws.append(
            row(
                "AWS",
                credit_day,
                credit_day + timedelta(days=1),
                "Credit",
                "Promotional credit",
                D("-100.00"),
                D("-100.00"),
                "Compute",
                "Amazon Elastic Compute Cloud",
                {"model": "search-ranker"},
                frequency="One-Time",
            )
        )
        estate.add(month_days[9], "search-ranker", "hardware", D("-100.00"), D("-100.00"))
        # the same charges as FOCUS, CUR 2.0, legacy CUR, Azure or GCP exports (generator_formats)
        write_billing(estate.root / "inbox" / "billing" / "aws" / month, FOCUS_HEADER, aws, billing_format)
        write_billing(estate.root / "inbox" / "billing" / "azure" / month, FOCUS_HEADER, azure, billing_format)


def _plant_commitment(estate: Estate, month: str, days: int) -> None:
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


def _truth_pool_hour(estate: Estate, node: str, h0: datetime, billed: Decimal) -> None:
    if node == NODE3:  # fractions of GPUs: the reference split of the hour's cost by 1/14 GPU-slots
        weights = _node3_weights(h0.hour)
        for model, q in _split(int(NODE3_HOURLY / Q), weights).items():
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


def _telemetry(estate: Estate, days: list[date]) -> None:
    hosts = {
        "gpu-node-1": "NVIDIA A10G",
        "gpu-node-2": "NVIDIA A10G",
        NODE3: "NVIDIA A100-SXM4-80GB",
        "dc1-gpu-01": "NVIDIA L40S",
        "dc1-gpu-02": "NVIDIA L40S",
    }
    for day in days:
        base = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
        for metric, suffix in (("DCGM_FI_DEV_GPU_UTIL", "gpu_util"), ("DCGM_FI_DEV_POWER_USAGE", "power")):
            series: dict[tuple, list] = {}
            for host, product in hosts.items():
                for gpu in range(4):
                    for slot in range(288):
                        # one series per MIG slice and per time-sliced pod (dcgm-exporter's labels)
                        sharing = (
                            [(mig, h) for mig, h, _, _ in node3_holders(gpu, slot)]
                            if host == NODE3
                            else [({}, holders(host, gpu, day, slot))]
                        )
                        for mig, holder in sharing:
                            labels = {
                                "__name__": metric,
                                "gpu": str(gpu),
                                "UUID": f"GPU-{host}-{gpu}",
                                "Hostname": host,
                                "modelName": product,
                            } | mig
                            if holder is not None:
                                labels |= _pod(holder, gpu, train=training(host, gpu, day))
                            if metric == "DCGM_FI_DEV_GPU_UTIL":
                                value = "0" if holder is None else str(35 + (slot * 7 + gpu * 13) % 60)
                                if holder == "embeddings":  # planted: busy 10-34%, a smaller GPU would do
                                    value = str(10 + (slot * 7 + gpu * 13) % 25)
                            else:
                                value = str(WATTS_IDLE if holder is None else WATTS_BUSY)
                            series.setdefault(tuple(sorted(labels.items())), []).append([base + slot * STEP, value])
            document = {
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [{"metric": dict(key), "values": values} for key, values in series.items()],
                },
            }
            path = estate.root / "inbox" / "telemetry" / day.strftime("%Y-%m") / f"{day}_{suffix}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, separators=(",", ":")))


def _owned(estate: Estate, days: list[date]) -> None:
    rows = [
        [a, h, 4, s.isoformat(), life, str(p), str(salvage), str(m), "USD", ""]
        for a, h, s, life, p, salvage, m in ASSETS
    ]
    _write_csv(
        estate.root / "inbox" / "assets" / "register.csv",
        [
            "asset_id",
            "hostname",
            "gpu_count",
            "in_service_date",
            "useful_life_months",
            "price",
            "salvage_value",
            "maintenance_per_month",
            "currency",
            "disposal_date",
        ],
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
                    for model, q in _split(amount_q, seconds).items():
                        estate.add(day, model, "hardware", D(q) * Q, D(q) * Q)
                        estate.gpu_daily[(day, model)] += D(q) * Q
                        if trained and model == "rec-ranker-llm":
                            run["hardware"] += D(q) * Q
            for model, j in joules.items():
                cost = D(j) / D(3_600_000) * PUE * TARIFF
                estate.add(day, model, "operational", cost, cost)
                if trained and model == "rec-ranker-llm":
                    run["operational"] += cost


ROLES = ["ml-engineer"] * 6 + ["data-scientist"] * 4 + ["sre"] * 3 + ["data-engineer"] * 2 + ["ml-engineer"]
FAMILIES = {
    "ml-engineer": "engineering",
    "sre": "engineering",
    "data-engineer": "engineering",
    "data-scientist": "science",
}
K_ANONYMITY = 3
ALL_STAFF = "all staff"
FIRST_NAMES = [
    "Ana",
    "Bo",
    "Chen",
    "Dara",
    "Eli",
    "Fei",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Min",
    "Noor",
    "Oto",
    "Pia",
]
JOINER = 15  # joins mid-February: costs only the working days employed
JOINER_START = date(2026, 2, 16)
TIMESHEET_PEOPLE = (13, 14)  # the data engineers log hours on projects instead of percent allocations
PROJECT_HOURS = {"DATA-PIPE": 5, "SRCH-IDX": 2, "ADMIN": 1}  # a working day
PROJECTS = {"DATA-PIPE": "rec-ranker-llm", "SRCH-IDX": "search-ranker"}  # ADMIN maps to no model


def _working_days(month: str) -> list[date]:
    return [d for d in _days([month]) if d.isoweekday() <= 5]


def _quarter(month: str) -> list[str]:
    year, number = month.split("-")
    first = (int(number) - 1) // 3 * 3 + 1
    return [f"{year}-{m:02d}" for m in range(first, first + 3)]


def _employed(monthly: Decimal, month: str, start: date | None) -> tuple[Decimal, int]:
    """(pay, working days) of a month: the monthly cost split evenly over its working days (the
    first days take the leftover quanta), kept for the days employed."""
    days = _working_days(month)
    base, extra = divmod(int(monthly / Q), len(days))
    kept = [i for i, d in enumerate(days) if start is None or d >= start]
    return D(sum(base + (1 if i < extra else 0) for i in kept)) * Q, len(kept)


def _per_day(pay: Decimal, days: int) -> Decimal:
    return (pay / days).quantize(D("0.01"), rounding=ROUND_HALF_EVEN)


def _rate_groups(quarter: dict[str, tuple[str, Decimal, int]]) -> dict[str, str]:
    """person -> rate group, by the standard-rate rules (README, "Privacy"): a group needs
    K_ANONYMITY people and a rate that is no member's own pay per day; a band short of that joins
    its family (the family taking in its smallest bands until it qualifies), else all staff (which
    takes in the smallest groups until it qualifies). `quarter`: person -> (band, pay, days)."""

    def qualifies(people: set[str]) -> bool:
        rate = _per_day(sum(quarter[p][1] for p in people), sum(quarter[p][2] for p in people))
        return len(people) >= K_ANONYMITY and all(_per_day(quarter[p][1], quarter[p][2]) != rate for p in people)

    group = {p: band for p, (band, _, _) in quarter.items()}
    members = lambda g: {p for p in group if group[p] == g}  # noqa: E731
    bands = sorted(set(group.values()))
    for family in sorted(set(FAMILIES.values())):
        own = [b for b in bands if FAMILIES.get(b) == family]
        short = [b for b in own if not qualifies(members(b))]
        if not short:
            continue
        whole = {p for b in own for p in members(b)}
        for p in [p for p in group if group[p] in short]:
            group[p] = family if qualifies(whole) else ALL_STAFF
        for b in sorted(set(own) - set(short), key=lambda b: (len(members(b)), b)):
            if qualifies(whole) and not qualifies(members(family)):
                for p in members(b):
                    group[p] = family
    for b in bands:
        if b not in FAMILIES and not qualifies(members(b)):
            for p in members(b):
                group[p] = ALL_STAFF
    if members(ALL_STAFF):
        for g in sorted(set(group.values()) - {ALL_STAFF}, key=lambda g: (len(members(g)), g)):
            if not qualifies(members(ALL_STAFF)):
                for p in members(g):
                    group[p] = ALL_STAFF
    assert all(qualifies(members(g)) for g in set(group.values())), "the demo's people always rate"
    return group


def _labor(estate: Estate, rng: random.Random) -> None:
    """People, allocations, timesheets and training; the truth: each person's working days employed
    x their rate group's standard rate (the group's pay / its working days over the quarter, to the
    cent), split over the person's shares; a model with fewer than K_ANONYMITY people in a month
    carries none (withheld). Pay beyond the standard cost, and training, are not any model's."""
    people, allocations, timesheets, training = [], [], [], []
    model_ids = list(MODELS)
    cost_centres: dict[str, str] = {}
    monthly: dict[str, tuple[str, Decimal, date | None]] = {}  # person -> (band, fully loaded, start)
    weights: dict[tuple[str, str], dict[str, int]] = {}
    for index, role in enumerate(ROLES):
        person = f"E{1000 + index}"
        salary = D(rng.randrange(800_000, 1_200_000)) / 100
        benefits, taxes = (salary * D("0.12")).quantize(D("0.01")), (salary * D("0.095")).quantize(D("0.01"))
        start = JOINER_START if index == JOINER else None
        cost_centres[person] = f"CC-{100 + index % 3}"
        monthly[person] = (role, salary + benefits + taxes, start)
        people.append(
            [
                person,
                f"{FIRST_NAMES[index]} Example",
                role,
                cost_centres[person],
                str(salary),
                str(benefits),
                str(taxes),
                "USD",
                start.isoformat() if start else "",
                "",
            ]
        )
        for month in estate.months:
            days = _working_days(month)
            if start and start > days[-1]:
                continue
            estate.pay[(month, person)] = _employed(monthly[person][1], month, start)[0]
            if index in TIMESHEET_PEOPLE:
                hours: dict[str, int] = defaultdict(int)
                for day in days:
                    for project, h in PROJECT_HOURS.items():
                        timesheets.append([day.isoformat(), person, project, "build", str(h), "", "", "USD"])
                        hours[PROJECTS.get(project, "__unallocated__")] += h * 100
                weights[(month, person)] = dict(hours)
                continue
            chosen = rng.sample(model_ids, 2)
            a, b = rng.choice([20, 30, 40, 50]), rng.choice([10, 20, 30, 40])
            for model, percent in ((chosen[0], a), (chosen[1], b)):
                allocations.append([month, person, model, str(percent)])
            weights[(month, person)] = {chosen[0]: a * 100, chosen[1]: b * 100} | (
                {"__unallocated__": (100 - a - b) * 100} if a + b < 100 else {}
            )
    training.append(["2026-01-20", "E1000", "", "1500.00", "USD", "conference"])
    training.append(["2026-03-10", "", "CC-100", "1200.00", "USD", "team course"])
    standard: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for quarter_months in sorted({tuple(_quarter(m)) for m in estate.months}):
        quarter: dict[str, tuple[str, Decimal, int]] = {}
        for person, (band, cost, start) in monthly.items():
            employed = [_employed(cost, m, start) for m in quarter_months]
            if sum(d for _, d in employed):
                quarter[person] = (band, sum(p for p, _ in employed), sum(d for _, d in employed))
        groups = _rate_groups(quarter)
        rates = {}
        for g in set(groups.values()):
            members = [quarter[p] for p in quarter if groups[p] == g]
            rates[g] = _per_day(sum(pay for _, pay, _ in members), sum(days for _, _, days in members))
        name = f"{quarter_months[0][:4]}-Q{(int(quarter_months[0][5:]) - 1) // 3 + 1}"
        estate.rate_group |= {(name, p): g for p, g in groups.items()}
        estate.rates |= {(name, g): r for g, r in rates.items()}
        for month in [m for m in quarter_months if m in estate.months]:
            for person in [p for (m, p) in weights if m == month]:
                days = _employed(monthly[person][1], month, monthly[person][2])[1]
                for model, q in _split(int(days * rates[groups[person]] / Q), weights[(month, person)]).items():
                    standard[(month, model)] += D(q) * Q
                    estate.workers[(month, model)].add(person)
    for (month, model), amount in standard.items():
        if len(estate.workers[(month, model)]) >= K_ANONYMITY:
            estate.add(date.fromisoformat(month + "-01"), model, "labor", amount, amount)
    write_private_csvs(
        estate.root / "inbox" / "labor",
        {
            "people.csv": (PEOPLE_HEADER, people),
            "allocations.csv": (ALLOCATIONS_HEADER, allocations),
            "timesheets.csv": (
                ["date", "person_id", "project", "task", "hours", "cost_rate", "cost_amount", "currency"],
                timesheets,
            ),
            "projects.csv": (["project", "model_id"], [[p, m] for p, m in PROJECTS.items()]),
            "training.csv": (["date", "person_id", "cost_centre", "amount", "currency", "description"], training),
        },
    )


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


def _charges(estate: Estate) -> None:
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
    _write_csv(
        estate.root / "inbox" / "charges" / "invoices.csv",
        [
            "invoice_id",
            "vendor",
            "category",
            "subcategory",
            "service_start",
            "service_end",
            "amount",
            "currency",
            "model_id",
            "description",
        ],
        rows,
    )
    for _, _, category, _, start, end, amount, _, model, _ in rows:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        n = (last - first).days + 1
        for i in range(n):
            estate.add(first + timedelta(days=i), model, category, D(amount) / n, D(amount) / n)
    _write_csv(
        estate.root / "inbox" / "charges" / "licences.csv",
        [
            "licence_id",
            "vendor",
            "product",
            "term_start",
            "term_end",
            "billing",
            "amount",
            "currency",
            "seats",
            "seats_by_model",
        ],
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
        for day in _days(estate.months):
            if not start <= day <= end:
                continue
            if billing == "term":
                n, index = (end - start).days + 1, (day - start).days
            else:
                n, index = len(_days([day.strftime("%Y-%m")])), day.day - 1
            base, extra = divmod(int(amount / Q), n)
            for model, q in _split(base + (1 if index < extra else 0), seat_weights).items():
                estate.add(day, model, "software", D(q) * Q, D(q) * Q)


def _milestones(estate: Estate) -> None:
    rows = [
        ["rec-ranker-llm", "v2 launch", "2026-02-10", "2026-02-19", "2000.00", "USD", "2026-01-05"],
        ["search-ranker", "index refresh", "2026-01-20", "2026-01-20", "5000.00", "USD", "2026-01-02"],
        # still open: it accrues every night up to the run's as-of day (the demo runs as of the 28th)
        ["exp-moe", "pilot", estate.as_of.replace(day=25).isoformat(), "", "1000.00", "USD", "2026-02-01"],
    ]
    _write_csv(
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


def _usage(estate: Estate, days: list[date], rng: random.Random) -> None:
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
    _write_csv(
        estate.root / "inbox" / "usage" / "volumes.csv",
        ["usage_date", "model_id", "requests", "input_tokens", "output_tokens"],
        rows,
    )
    _write_csv(
        estate.root / "inbox" / "optimizations" / "log.csv",
        ["action_date", "model_id", "action", "description", "claimed_saving_percent"],
        [
            [day.isoformat(), model, action, description, CLAIMS.get(model, "") if kind == "cut_30" else ""]
            for day, model, action, description, kind in PLANTED_ACTIONS
        ],
    )


def _fx(estate: Estate, days: list[date]) -> None:
    _write_csv(
        estate.root / "inbox" / "fx" / "rates.csv",
        ["rate_date", "currency", "rate"],
        [[day.isoformat(), "EUR", str(EUR_RATES[day.month])] for day in days],
    )


def _budgets(estate: Estate) -> None:
    _write_csv(
        estate.root / "inbox" / "budgets" / "budgets.csv",
        ["period", "model_id", "team", "business_line", "owner", "category", "amount", "currency"],
        [[p, m, t, b, o, c, str(a), cur] for p, m, t, b, o, c, a, cur in BUDGETS],
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


def _write_truth(estate: Estate) -> None:
    rows = [[m, model, cat, str(v[0]), str(v[1])] for (m, model, cat), v in sorted(estate.truth.items())]
    _write_csv(estate.root / "truth.csv", ["month", "model_id", "category", "billed_cost", "effective_cost"], rows)
    _write_csv(
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
    _write_csv(
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
