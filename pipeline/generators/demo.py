"""A seeded, deterministic demo estate with known truth (`costledger demo`).

It writes a workspace (config + inbox) for an online retailer serving six models on a shared
cloud GPU node pool and two owned GPU servers, and beside the inputs `truth.csv`: the cost per
month, model and category that a correct pipeline must reproduce exactly. The truth is computed
from the plan itself (what was planted), not by the pipeline's code. Labor is at standard rates:
the generator rates its own people (see pipeline.generators.labor) and keeps what it planted on
the Estate (people's pay, rate groups, rates, who works on which model) for the privacy tests.
Beside the truth, `truth_impact.csv` (what each optimisation really did), `truth_budgets.csv`
(each budget line's actual cost) and `truth_plants.json` (a one-day spike, a savings plan's
utilisation and coverage, a training run on a serving model, a team move) for the decision marts.

This module writes the config and runs the writers in order; the plan is in `plan`, each input
family in its own module (`billing`, `telemetry`, `owned`, `labor`, `charges`, `records`) and
the truth files in `truth`."""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.generators import billing, charges, labor, owned, records, telemetry, truth
from pipeline.generators.labor import FAMILIES
from pipeline.generators.plan import MODELS, MOVES, SUPPORT_WEIGHTS, Estate, days_of
from pipeline.progress import Progress, count
from pipeline.workspace import Workspace

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
    days = days_of(estate.months)
    steps = [
        ("billing", lambda: billing.write_bills(estate, days, billing_format)),
        ("telemetry", lambda: telemetry.write_telemetry(estate, days)),
        ("assets", lambda: owned.write_assets(estate, days)),
        ("labor", lambda: labor.write_labor(estate, rng)),
        ("charges", lambda: charges.write_charges(estate)),
        ("milestones", lambda: records.write_milestones(estate)),
        # own stream: volumes do not shift when other inputs draw more
        ("usage", lambda: records.write_usage(estate, days, random.Random(seed * 1_000_003 + 17))),
        ("fx", lambda: records.write_fx(estate, days)),
        ("budgets", lambda: records.write_budgets(estate)),
    ]
    progress.phase(f"generating a {len(estate.months)}-month estate", len(steps))
    inbox = lambda: sum(1 for f in (root / "inbox").rglob("*") if f.is_file())  # noqa: E731
    for name, write in steps:
        before = inbox()
        write()
        progress.item(f"{name}: {count(inbox() - before, 'file')}")
    truth.write_truth(estate)
    return estate
