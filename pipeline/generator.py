"""A seeded, deterministic demo estate with known truth.

It writes a workspace (config + inbox) for an online retailer serving six models on a shared
cloud GPU node pool and two owned GPU servers, and beside the inputs `truth.csv`: the cost per
month, model and category that a correct pipeline must reproduce exactly. The truth is computed
here from the plan itself (what was planted), not by the pipeline's code."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from pipeline.workspace import Workspace

D = Decimal
Q = D(1).scaleb(-18)
STEP = 300  # telemetry step, seconds
MODELS = {
    "search-ranker": ("Search ranking", "search", "search-relevance"),
    "query-rewrite-llm": ("Query rewrite LLM", "search", "search-relevance"),
    "rec-retrieval": ("Recommendation retrieval", "recommendation", "recsys"),
    "rec-ranker-llm": ("Recommendation ranking LLM", "recommendation", "recsys"),
    "embeddings": ("Embeddings", "platform", "ml-platform"),
    "exp-moe": ("Mixture-of-experts experiment", "research", "applied-research"),
}
NAMESPACES = {"search-ranker": "search", "query-rewrite-llm": "qrewrite", "rec-retrieval": "recsys", "rec-ranker-llm": "recsys", "embeddings": "embed"}
POOL_NODE_HOURLY = D("4.80")  # 4 GPUs x 12 samples an hour = 48 slots: 0.10 a slot
SUPPORT_WEIGHTS = {"search-ranker": 3, "rec-ranker-llm": 3, "query-rewrite-llm": 2, "rec-retrieval": 1, "embeddings": 1}
EUR_RATES = {1: D("1.0850"), 2: D("1.0900"), 3: D("1.0800")}
PUE, TARIFF = D("1.5"), D("0.12")
WATTS_BUSY, WATTS_IDLE = 300, 60  # multiples of 12: a 300 s sample is a whole number of Wh/1000
OPTIMISATION_DAY = date(2026, 2, 15)
ASSETS = [
    # asset_id, hostname, in service, life months, price, salvage, maintenance a month
    ("A-1001", "dc1-gpu-01", date(2025, 1, 1), 36, D("121500.00"), D("12000.00"), D("1500.00")),
    ("A-1002", "dc1-gpu-02", date(2025, 7, 1), 36, D("98000.00"), D("8000.00"), D("0.00")),
]


@dataclass
class Estate:
    root: Path
    months: list[str]
    truth: dict[tuple[str, str, str], list[Decimal]] = field(default_factory=lambda: defaultdict(lambda: [D(0), D(0)]))

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
        return {0: "search-ranker", 1: "search-ranker", 2: "query-rewrite-llm" if 8 <= hour < 20 else None,
                3: "embeddings" if hour < 6 else None}[gpu]
    if host == "gpu-node-2":
        ranker_until = 4 if day >= OPTIMISATION_DAY else 16  # the planted optimisation: -30% GPU-time
        return {0: "rec-ranker-llm", 1: "rec-retrieval", 2: "sandbox" if 10 <= hour < 12 else None,
                3: "rec-ranker-llm" if hour < ranker_until else None}[gpu]
    if host == "dc1-gpu-01":
        return {0: "query-rewrite-llm", 1: "query-rewrite-llm", 2: "embeddings" if 9 <= hour < 21 else None,
                3: "embeddings" if 9 <= hour < 21 else None}[gpu]
    return {0: "rec-retrieval", 1: "rec-retrieval", 2: None, 3: None}[gpu]


def _pod(holder: str, gpu: int) -> dict[str, str]:
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

[owned]
pue = "1.5"
tariff_per_kwh = "0.12"
tariff_currency = "USD"

[labor]
k_anonymity = 3
"""


def _config_text() -> str:
    models = "".join(
        f'[[models]]\nid = "{i}"\nname = "{n}"\nbusiness_line = "{b}"\nowner = "{o}"\n\n' for i, (n, b, o) in MODELS.items()
    )
    weights = "{ " + ", ".join(f'"{k}" = {v}' for k, v in SUPPORT_WEIGHTS.items()) + " }"
    return CONFIG.format(models=models, weights=weights)


def generate_estate(root: Path | str, *, seed: int = 7, months: tuple[str, ...] = ("2026-01", "2026-02", "2026-03")) -> Estate:
    root = Path(root)
    Workspace.init(root, config_text=_config_text())
    estate = Estate(root=root, months=list(months))
    rng = random.Random(seed)
    days = _days(estate.months)
    _billing(estate, days)
    _telemetry(estate, days)
    _owned(estate, days)
    _labor(estate, rng)
    _charges(estate)
    _milestones(estate)
    _usage(estate, days, rng)
    _fx(estate, days)
    _write_truth(estate)
    return estate


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


FOCUS_HEADER = [
    "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency", "PricingCurrency", "ConsumedQuantity", "ConsumedUnit",
    "ProviderName", "PublisherName", "InvoiceIssuerName", "InvoiceId", "RegionId", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "SkuId", "CommitmentDiscountId", "CommitmentDiscountType", "Tags",
]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _billing(estate: Estate, days: list[date]) -> None:
    for month in estate.months:
        start = datetime.fromisoformat(month + "-01")
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_days = [d for d in days if d.strftime("%Y-%m") == month]
        aws, azure = [], []

        def row(provider: str, charge_start: datetime, charge_end: datetime, category: str, description: str, billed: Decimal,
                effective: Decimal, service_category: str, service_name: str, tags: dict | None = None, *, resource: str = "",
                frequency: str = "Usage-Based", publisher: str | None = None, commitment: str = "", sub_account: str = "") -> list:
            aws_side = provider == "AWS"
            issuer = "Amazon Web Services, Inc." if aws_side else "Microsoft"
            return [
                "111111111111" if aws_side else "ea-0001", "Retail Prod" if aws_side else "Retail EA", sub_account or ("222222222222" if aws_side else "acct-shared"),
                "ml-serving" if aws_side else "shared", _ts(start), _ts(end), _ts(charge_start), _ts(charge_end), category, "",
                description, frequency, str(billed), str(effective), str(billed), str(billed), "USD" if aws_side else "EUR", "USD" if aws_side else "EUR",
                "1", "Hours", provider, publisher or issuer, issuer, "", "us-east-1" if aws_side else "westeurope", f"{resource or 'r'}-{service_name[:8]}",
                resource, "", service_category, service_name, "SKU1", commitment, "Savings Plan" if commitment else "",
                json.dumps(tags) if tags else "",
            ]

        for day in month_days:
            d0 = datetime.combine(day, datetime.min.time())
            d1 = d0 + timedelta(days=1)
            for hour in range(24):
                h0 = d0 + timedelta(hours=hour)
                for node, covered in (("gpu-node-1", False), ("gpu-node-2", True)):
                    billed = D("0.00") if covered else POOL_NODE_HOURLY
                    aws.append(row("AWS", h0, h0 + timedelta(hours=1), "Usage", "g5.12xlarge GPU instance hour", billed, POOL_NODE_HOURLY,
                                   "Compute", "Amazon Elastic Compute Cloud", resource=node, commitment="sp-1" if covered else ""))
                    _truth_pool_hour(estate, node, h0, billed)
            for model, cost in (("search-ranker", "120.00"), ("query-rewrite-llm", "40.00"), ("rec-retrieval", "95.50"), ("rec-ranker-llm", "60.25"), ("embeddings", "30.00")):
                key = " Model " if model == "embeddings" else "model"  # tag keys arrive with odd case and spaces
                aws.append(row("AWS", d0, d1, "Usage", "c6i.4xlarge instance hours", D(cost), D(cost), "Compute", "Amazon Elastic Compute Cloud", {key: model}, resource=f"cpu-{model}"))
                estate.add(day, model, "hardware", D(cost), D(cost))
            aws.append(row("AWS", d0, d1, "Usage", "S3 standard storage", D("12.34"), D("12.34"), "Storage", "Amazon Simple Storage Service", {"model": "embeddings"}))
            estate.add(day, "embeddings", "hardware", D("12.34"), D("12.34"))
            aws.append(row("AWS", d0, d1, "Usage", "S3 training data", D("20.00"), D("20.00"), "Storage", "Amazon Simple Storage Service", {"model": "rec-ranker-llm", "cost_category": "data"}))
            estate.add(day, "rec-ranker-llm", "data", D("20.00"), D("20.00"))
            aws.append(row("AWS", d0, d1, "Usage", "Data transfer out", D("15.00"), D("15.00"), "Networking", "AWS Data Transfer", {"model": "search-ranker"}))
            estate.add(day, "search-ranker", "operational", D("15.00"), D("15.00"))
            aws.append(row("AWS", d0, d1, "Usage", "CloudWatch metrics", D("5.00"), D("5.00"), "Management and Governance", "Amazon CloudWatch"))
            estate.add(day, "__unallocated__", "operational", D("5.00"), D("5.00"))
            aws.append(row("AWS", d0, d1, "Usage", "Legacy ranker instance", D("2.00"), D("2.00"), "Compute", "Amazon Elastic Compute Cloud", {"model": "legacy-ranker"}))
            estate.add(day, "__unallocated__", "hardware", D("2.00"), D("2.00"))
            eur_rate = EUR_RATES[day.month]
            azure.append(row("Microsoft", d0, d1, "Usage", "NC A100 v4 GPU VM", D("96.00"), D("96.00"), "Compute", "Virtual Machines", sub_account="acct-exp"))
            estate.add(day, "exp-moe", "hardware", D("96.00") * eur_rate, D("96.00") * eur_rate)
            azure.append(row("Microsoft", d0, d1, "Usage", "Blob storage", D("8.00"), D("8.00"), "Storage", "Storage", {"app": "exp-moe"}))
            estate.add(day, "exp-moe", "hardware", D("8.00") * eur_rate, D("8.00") * eur_rate)
        first_day = month_days[0]
        aws.append(row("AWS", start, end, "Usage", "Business support", D("900.00"), D("900.00"), "Management and Governance", "AWS Support (Business)", frequency="Recurring"))
        for model, amount in _split(int(D("900.00") / Q), SUPPORT_WEIGHTS).items():
            estate.add(first_day, model, "software", D(amount) * Q, D(amount) * Q)
        aws.append(row("AWS", start, end, "Usage", "Vector DB licence", D("1500.00"), D("1500.00"), "Databases", "Acme Vector DB", {"model": "rec-retrieval"},
                       frequency="Recurring", publisher="Acme Vector DB Inc."))
        estate.add(first_day, "rec-retrieval", "software", D("1500.00"), D("1500.00"))
        aws.append(row("AWS", start, end, "Tax", "Sales tax", D("250.00"), D("250.00"), "", "Tax", frequency="Recurring"))
        estate.add(first_day, "__shared__", "operational", D("250.00"), D("250.00"))
        aws.append(row("AWS", start, start, "Purchase", "Compute savings plan, monthly fee", D("3000.00"), D("0.00"), "Compute", "Savings Plans for AWS Compute usage",
                       frequency="Recurring", commitment="sp-1"))
        estate.add(first_day, "__shared__", "hardware", D("3000.00"), D("0.00"))
        credit_day = datetime.combine(month_days[9], datetime.min.time())
        aws.append(row("AWS", credit_day, credit_day + timedelta(days=1), "Credit", "Promotional credit", D("-100.00"), D("-100.00"), "Compute",
                       "Amazon Elastic Compute Cloud", {"model": "search-ranker"}, frequency="One-Time"))
        estate.add(month_days[9], "search-ranker", "hardware", D("-100.00"), D("-100.00"))
        _write_csv(estate.root / "inbox" / "billing" / "aws" / f"{month}.csv", FOCUS_HEADER, aws)
        _write_csv(estate.root / "inbox" / "billing" / "azure" / f"{month}.csv", FOCUS_HEADER, azure)


def _truth_pool_hour(estate: Estate, node: str, h0: datetime, billed: Decimal) -> None:
    per_slot_billed, per_slot_effective = billed / 48, POOL_NODE_HOURLY / 48
    counts: dict[str, int] = defaultdict(int)
    for gpu in range(4):
        for slot in range(h0.hour * 12, h0.hour * 12 + 12):
            holder = holders(node, gpu, h0.date(), slot)
            counts["__idle__" if holder is None else "__unallocated__" if holder == "sandbox" else holder] += 1
    for model, n in counts.items():
        estate.add(h0.date(), model, "hardware", per_slot_billed * n, per_slot_effective * n)


def _telemetry(estate: Estate, days: list[date]) -> None:
    hosts = {"gpu-node-1": "NVIDIA A10G", "gpu-node-2": "NVIDIA A10G", "dc1-gpu-01": "NVIDIA L40S", "dc1-gpu-02": "NVIDIA L40S"}
    for day in days:
        base = int(datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc).timestamp())
        for metric, suffix in (("DCGM_FI_DEV_GPU_UTIL", "gpu_util"), ("DCGM_FI_DEV_POWER_USAGE", "power")):
            series: dict[tuple, list] = {}
            for host, product in hosts.items():
                for gpu in range(4):
                    for slot in range(288):
                        holder = holders(host, gpu, day, slot)
                        labels = {"__name__": metric, "gpu": str(gpu), "UUID": f"GPU-{host}-{gpu}", "Hostname": host, "modelName": product}
                        if holder is not None:
                            labels |= _pod(holder, gpu)
                        if metric == "DCGM_FI_DEV_GPU_UTIL":
                            value = "0" if holder is None else str(35 + (slot * 7 + gpu * 13) % 60)
                        else:
                            value = str(WATTS_IDLE if holder is None else WATTS_BUSY)
                        series.setdefault(tuple(sorted(labels.items())), []).append([base + slot * STEP, value])
            document = {"status": "success", "data": {"resultType": "matrix", "result": [
                {"metric": dict(key), "values": values} for key, values in series.items()
            ]}}
            path = estate.root / "inbox" / "telemetry" / day.strftime("%Y-%m") / f"{day}_{suffix}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, separators=(",", ":")))


def _owned(estate: Estate, days: list[date]) -> None:
    rows = [[a, h, 4, s.isoformat(), life, str(p), str(salvage), str(m), "USD", ""] for a, h, s, life, p, salvage, m in ASSETS]
    _write_csv(estate.root / "inbox" / "assets" / "register.csv",
               ["asset_id", "hostname", "gpu_count", "in_service_date", "useful_life_months", "price", "salvage_value", "maintenance_per_month", "currency", "disposal_date"], rows)
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
            for amount_q in (dep_q, maint_q):
                if amount_q:
                    for model, q in _split(amount_q, seconds).items():
                        estate.add(day, model, "hardware", D(q) * Q, D(q) * Q)
            for model, j in joules.items():
                cost = D(j) / D(3_600_000) * PUE * TARIFF
                estate.add(day, model, "operational", cost, cost)


ROLES = ["ml-engineer"] * 6 + ["data-scientist"] * 4 + ["sre"] * 3 + ["data-engineer"] * 2
FIRST_NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fei", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Min", "Noor", "Oto"]


def _labor(estate: Estate, rng: random.Random) -> None:
    people, allocations = [], []
    model_ids = [m for m in MODELS]
    for index, role in enumerate(ROLES):
        person = f"E{1000 + index}"
        cost = D(rng.randrange(1_100_000, 1_650_000)) / 100
        people.append([person, f"{FIRST_NAMES[index]} Example", role, f"CC-{100 + index % 3}", str(cost), "USD"])
        for month in estate.months:
            first = date.fromisoformat(month + "-01")
            chosen = rng.sample(model_ids, 2)
            a = rng.choice([20, 30, 40, 50])
            b = rng.choice([10, 20, 30, 40])
            for model, percent in ((chosen[0], a), (chosen[1], b)):
                allocations.append([month, person, model, str(percent)])
                estate.add(first, model, "labor", cost * percent / 100, cost * percent / 100)
            rest = 100 - a - b
            if rest:
                estate.add(first, "__unallocated__", "labor", cost * rest / 100, cost * rest / 100)
    _write_csv(estate.root / "inbox" / "labor" / "people.csv", ["person_id", "name", "role", "cost_centre", "monthly_cost", "currency"], people)
    _write_csv(estate.root / "inbox" / "labor" / "allocations.csv", ["month", "person_id", "model_id", "percent"], allocations)


def _charges(estate: Estate) -> None:
    rows = [
        ["LC-2026-001", "LabelCo", "data", "labelling", "2026-01-15", "2026-02-14", "31000.00", "USD", "rec-ranker-llm", "Click-label relevance judgements"],
        ["TR-2026-Q1", "Triton Enterprise", "software", "licence", "2026-01-01", "2026-03-31", "9000.00", "USD", "search-ranker", "Inference server licence, Q1"],
    ]
    _write_csv(estate.root / "inbox" / "charges" / "invoices.csv",
               ["invoice_id", "vendor", "category", "subcategory", "service_start", "service_end", "amount", "currency", "model_id", "description"], rows)
    for _, _, category, _, start, end, amount, _, model, _ in rows:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        n = (last - first).days + 1
        for i in range(n):
            estate.add(first + timedelta(days=i), model, category, D(amount) / n, D(amount) / n)


def _milestones(estate: Estate) -> None:
    rows = [
        ["rec-ranker-llm", "v2 launch", "2026-02-10", "2026-02-19", "2000.00", "USD"],
        ["search-ranker", "index refresh", "2026-01-20", "2026-01-20", "5000.00", "USD"],
    ]
    _write_csv(estate.root / "inbox" / "milestones" / "milestones.csv",
               ["model_id", "milestone", "planned_date", "actual_date", "cost_of_delay_per_day", "currency"], rows)
    for day in range(11, 20):
        estate.add(date(2026, 2, day), "rec-ranker-llm", "time", D("2000.00"), D("2000.00"))


def _usage(estate: Estate, days: list[date], rng: random.Random) -> None:
    volume = {"search-ranker": 4_000_000, "query-rewrite-llm": 900_000, "rec-retrieval": 2_500_000, "rec-ranker-llm": 1_200_000, "embeddings": 3_000_000, "exp-moe": 20_000}
    llm = {"query-rewrite-llm", "rec-ranker-llm", "exp-moe"}
    rows = []
    for day in days:
        for model, base in volume.items():
            requests = base + rng.randrange(-base // 20, base // 20)
            rows.append([day.isoformat(), model, requests, requests * 180 if model in llm else "", requests * 40 if model in llm else ""])
    _write_csv(estate.root / "inbox" / "usage" / "volumes.csv", ["usage_date", "model_id", "requests", "input_tokens", "output_tokens"], rows)
    _write_csv(estate.root / "inbox" / "optimizations" / "log.csv", ["action_date", "model_id", "action", "description"],
               [[OPTIMISATION_DAY.isoformat(), "rec-ranker-llm", "quantization", "INT8 weights: the second GPU is held 4 h a day instead of 16 h"]])


def _fx(estate: Estate, days: list[date]) -> None:
    _write_csv(estate.root / "inbox" / "fx" / "rates.csv", ["rate_date", "currency", "rate"],
               [[day.isoformat(), "EUR", str(EUR_RATES[day.month])] for day in days])


def _write_truth(estate: Estate) -> None:
    rows = [[m, model, cat, str(v[0]), str(v[1])] for (m, model, cat), v in sorted(estate.truth.items())]
    _write_csv(estate.root / "truth.csv", ["month", "model_id", "category", "billed_cost", "effective_cost"], rows)
