"""Seeded workspaces at benchmark scale (`costledger generate`, benchmarks/scale.py): S is the
demo estate (pipeline.generators.demo), one month; M and L are one month of a larger estate
written by DuckDB from `range()` (no Python loop over rows), so L takes well under a couple of
minutes to write.

M and L, for the month 2026-01 (31 days), one file per day for billing, telemetry, usage and FX
(as a daily export lands: a nightly run after one new day sees one new file of each); F is the
same month as one 2,000,000-row FOCUS file (the monthly export of a large account), beside two
small GPU servers:
- billing/focus-YYYY-MM-DD.{parquet,csv}: FOCUS 1.2 rows, money as exact decimals. Each day has
  an hourly row per cloud GPU node (split by GPU time: the pool matches the row's ResourceId),
  then rows by a fixed pattern of the row number: tagged usage (AWS in USD, Azure in EUR),
  storage tagged as data, untagged, an unregistered model's tag, an account rule, support (a
  proportional shared pool) and tax (kept shared); day 1 also has a savings plan purchase.
- telemetry/gpu-YYYY-MM-DD.{parquet,csv}: long samples at 60 s, DCGM_FI_DEV_GPU_UTIL for every
  GPU and DCGM_FI_DEV_POWER_USAGE for the owned servers' GPUs; a GPU's holder changes every hour
  (a model's namespace, an unmapped sandbox, or no pod: idle).
- labor/people.csv + allocations.csv (every person employed the whole month: labor = the sum of
  their loaded monthly cost), usage/volumes-YYYY-MM-DD.csv, fx/rates-YYYY-MM-DD.csv,
  assets/register.csv (owned servers), charges/invoices.csv + licences.csv, milestones.csv.

Every value is a function of the seed and the row's position, so the same seed gives the same
bytes. `Spec` sizes a workspace; `SCALES` holds M, L and F, and tests build tiny ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from pipeline.generators.csvfiles import ALLOCATIONS_HEADER, PEOPLE_HEADER, write_csv, write_private_csvs
from pipeline.generators.demo import generate_estate
from pipeline.progress import Progress
from pipeline.warehouse import fill, sql_text
from pipeline.workspace import Workspace

MONTH = "2026-01"
FIRST_DAY = date(2026, 1, 1)
DAYS = 31
STEP = 60  # telemetry step, seconds
GPUS_PER_NODE = 8
NODE_HOURLY = Decimal("32.7726")  # effective cost of a cloud GPU node hour
EUR_RATE_BASE = Decimal("1.0800")  # + day % 5 thousandths
WATTS_BUSY, WATTS_IDLE = 300, 60
ASSET_PRICE, ASSET_SALVAGE, ASSET_LIFE_MONTHS = (
    Decimal("119500.00"),
    Decimal("10000.00"),
    36,
)  # 109500 / 1095 days = 100.00 a day
ASSET_MAINTENANCE = Decimal("310.00")  # 10.00 a day in a 31-day month
PUE, TARIFF = Decimal("1.5"), Decimal("0.12")  # 1 J costs 1.5 x 0.12 / 3.6e6 = 0.00000005
CHARGE_DATA, CHARGE_SOFTWARE = Decimal("3100.00"), Decimal("6200.00")  # both inside January: 100.00 and 200.00 a day
LICENCE_MONTHLY = Decimal("930.00")  # monthly billing: 30.00 a day
DELAY_PER_DAY, DELAY_DAYS = Decimal("500.00"), 4  # planned Jan 10, delivered Jan 14: Jan 11..14 late
PURCHASE = Decimal("15000.00")  # a savings plan purchase on day 1 (billed, kept __shared__)
ROLES = ("ml-engineer", "data-scientist", "sre", "data-engineer")


@dataclass(frozen=True)
class Spec:
    """How big a generated month is."""

    billing_rows: int  # in the month, all days
    gpus: int  # GPUS_PER_NODE per host; the last `owned_hosts` hosts are owned servers
    people: int
    models: int
    owned_hosts: int = 1
    days: int = DAYS  # the first `days` days of January
    single_file: bool = False  # the month's billing in one file (focus-2026-01.*), as a monthly export lands

    @property
    def hosts(self) -> int:
        return self.gpus // GPUS_PER_NODE

    @property
    def cloud_nodes(self) -> int:
        return self.hosts - self.owned_hosts

    def rows_on(self, day: int) -> int:
        """Billing rows of day `day` (0-based): the month's rows spread evenly, first days +1."""
        base, extra = divmod(self.billing_rows, self.days)
        return base + (1 if day < extra else 0)


SCALES: dict[str, Spec] = {
    "M": Spec(billing_rows=1_000_000, gpus=200, people=100, models=20, owned_hosts=2),
    "L": Spec(billing_rows=10_000_000, gpus=1_000, people=500, models=50, owned_hosts=5),
    # one monthly FOCUS export of 2,000,000 rows (about 1.4 GB as CSV), two small GPU servers
    "F": Spec(billing_rows=2_000_000, gpus=16, people=12, models=20, owned_hosts=1, single_file=True),
}


def model_id(index: int) -> str:
    return f"model-{index:03d}"


def host_name(host: int, spec: Spec) -> str:
    return f"dc1-gpu-{host:04d}" if host >= spec.cloud_nodes else f"gpu-node-{host:04d}"


def generate(
    root: Path | str,
    scale: str,
    *,
    fmt: str = "parquet",
    seed: int = 7,
    spec: Spec | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write a workspace (config + inbox) at `scale` (S, M, L; or `spec` for a custom size) into
    `root`; return root. S is the demo estate, one month, its own formats. Each day written (then
    the HR and fixed inputs) is a line of `progress`."""
    root = Path(root)
    progress = progress or Progress()
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format {fmt!r}: expected parquet or csv")
    if scale == "S" and spec is None:
        generate_estate(root, seed=seed, months=(MONTH,), progress=progress)
        return root
    spec = spec or SCALES[scale]
    if spec.hosts <= spec.owned_hosts or spec.days > DAYS:
        raise ValueError(f"{spec}: needs more hosts than owned ones and at most {DAYS} days")
    Workspace.init(root, config_text=config_text(spec))
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute("set preserve_insertion_order = true")  # rows in generation order: same seed, same bytes
    try:
        offset = 0
        months: list[str] = []
        progress.phase(
            f"generating scale {scale}: {spec.days} days, then HR and fixed inputs",
            spec.days + 1 + bool(spec.single_file),
        )
        for day in range(spec.days):
            if spec.single_file:
                months.append(_billing_query(spec, day, offset, seed))
            else:
                _billing_day(con, root, spec, day, offset, fmt, seed)
            offset += spec.rows_on(day)
            _telemetry_day(con, root, spec, day, fmt)
            _usage_day(root, spec, day, seed)
            _fx_day(root, day)
            progress.item(f"{MONTH}-{day + 1:02d}: {spec.rows_on(day):,} billing rows, telemetry, usage and FX written")
        if months:
            _copy(
                con,
                "\nunion all\n".join(f"({q})" for q in months),
                root / "inbox" / "billing" / f"focus-{MONTH}.{fmt}",
                fmt,
            )
            progress.item(f"billing/focus-{MONTH}.{fmt}: {offset:,} billing rows written")
    finally:
        con.close()
    _labor(root, spec, seed)
    _fixed_inputs(root, spec)
    progress.item(f"HR ({spec.people:,} people), assets and charges written")
    return root


def config_text(spec: Spec) -> str:
    models = "".join(
        f'[[models]]\nid = "{model_id(i)}"\nname = "Model {i}"\nbusiness_line = "line-{i % 4}"\n\n'
        for i in range(spec.models)
    )
    workloads = "".join(
        f'[[workloads]]\nnamespace = "ns-{i:03d}"\nmodel = "{model_id(i)}"\n\n' for i in range(spec.models)
    )
    return f"""\
reporting_currency = "USD"
telemetry_step_seconds = {STEP}

{models}[attribution]
tag_keys = ["model"]

[[attribution.rules]]
field = "SubAccountId"
pattern = "acct-exp"
model = "{model_id(0)}"

{workloads}[[gpu_pools]]
name = "cloud-gpu"
node_pattern = "gpu-node-[0-9]+"
resource_id_pattern = "arn:aws:ec2:us-east-1:111111111111:instance/gpu-node-[0-9]+"
gpus_per_node = {GPUS_PER_NODE}

[[shared_pools]]
name = "support"
service_name = "AWS Support.*"
policy = "proportional"

[[shared_pools]]
name = "tax"
charge_category = "Tax"
policy = "keep"

[owned]
pue = "{PUE}"
tariff_per_kwh = "{TARIFF}"
tariff_currency = "USD"

[labor]
k_anonymity = 3

[ingest]
settle_seconds = 0   # generated files are complete when the generator returns: read them at once
"""


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = (
        "format parquet, compression zstd, row_group_size 200000" if fmt == "parquet" else "format csv, header true"
    )
    con.execute(f"copy ({query}) to '{path}' ({options})")


def _billing_query(spec: Spec, day: int, offset: int, seed: int) -> str:
    when = FIRST_DAY + timedelta(days=day)
    return fill(
        sql_text("generators", "billing_day"),
        offset=str(offset),
        seed=str(seed),
        rows=str(spec.rows_on(day)),
        pool_rows=str(24 * spec.cloud_nodes),
        day=str(day),
        models=str(spec.models),
        day_start=f"'{when} 00:00:00'",
        month_start=f"'{MONTH}-01 00:00:00'",
        month_end="'2026-02-01 00:00:00'",
        month=f"'{MONTH}'",
        node_hourly=str(NODE_HOURLY),
        purchase=str(PURCHASE),
    )


def _billing_day(
    con: duckdb.DuckDBPyConnection, root: Path, spec: Spec, day: int, offset: int, fmt: str, seed: int
) -> None:
    when = FIRST_DAY + timedelta(days=day)
    _copy(con, _billing_query(spec, day, offset, seed), root / "inbox" / "billing" / f"focus-{when}.{fmt}", fmt)


def _telemetry_day(con: duckdb.DuckDBPyConnection, root: Path, spec: Spec, day: int, fmt: str) -> None:
    when = FIRST_DAY + timedelta(days=day)
    query = fill(
        sql_text("generators", "telemetry_day"),
        gpus_per_node=str(GPUS_PER_NODE),
        gpus=str(spec.hosts * GPUS_PER_NODE),
        slots=str(86_400 // STEP),
        step=str(STEP),
        day=str(day),
        day_start=f"'{when} 00:00:00'",
        models=str(spec.models),
        cloud_nodes=str(spec.cloud_nodes),
        idle=str(WATTS_IDLE),
        busy=str(WATTS_BUSY),
    )
    if fmt == "csv":  # timestamps as ISO text with a Z, as a CSV export writes them
        query = f"select * replace (strftime(ts, '%Y-%m-%dT%H:%M:%SZ') as ts) from ({query})"
    _copy(con, query, root / "inbox" / "telemetry" / f"gpu-{when}.{fmt}", fmt)


def _usage_day(root: Path, spec: Spec, day: int, seed: int) -> None:
    when = FIRST_DAY + timedelta(days=day)
    rows = []
    for m in range(spec.models):  # a row per model: models, not billing rows
        requests = 100_000 + (m * 7919 + day * 104_729 + seed * 31) % 900_000
        rows.append(
            [
                when.isoformat(),
                model_id(m),
                requests,
                requests * 180 if m % 3 == 0 else "",
                requests * 40 if m % 3 == 0 else "",
            ]
        )
    write_csv(
        root / "inbox" / "usage" / f"volumes-{when}.csv",
        ["usage_date", "model_id", "requests", "input_tokens", "output_tokens"],
        rows,
    )


def eur_rate(day: int) -> Decimal:
    return EUR_RATE_BASE + Decimal(day % 5) / 1000


def _fx_day(root: Path, day: int) -> None:
    when = FIRST_DAY + timedelta(days=day)
    write_csv(
        root / "inbox" / "fx" / f"rates-{when}.csv",
        ["rate_date", "currency", "rate"],
        [[when.isoformat(), "EUR", str(eur_rate(day))]],
    )


def person_cost(index: int, seed: int) -> tuple[Decimal, Decimal, Decimal]:
    """(monthly salary, benefits, employer taxes) of person `index`: whole dollars, 12%, 9.5%."""
    salary = Decimal(6_000 + (index * 7_919 + seed * 31) % 6_000)
    return salary, salary * Decimal("0.12"), salary * Decimal("0.095")


def _labor(root: Path, spec: Spec, seed: int) -> None:
    people, allocations = [], []
    for p in range(spec.people):  # a row per person: people, not billing rows
        salary, benefits, taxes = person_cost(p, seed)
        person = f"E{10_000 + p}"
        people.append(
            [
                person,
                f"Person {p}",
                ROLES[p % len(ROLES)],
                f"CC-{100 + p % 5}",
                str(salary),
                str(benefits),
                str(taxes),
                "USD",
                "",
                "",
            ]
        )
        first, second = (p * 3 + seed) % spec.models, (p * 3 + seed + 1) % spec.models
        allocations += [
            [MONTH, person, model_id(first), str(40 + 10 * (p % 3))],
            [MONTH, person, model_id(second), "30"],
        ]
    write_private_csvs(
        root / "inbox" / "labor",
        {"people.csv": (PEOPLE_HEADER, people), "allocations.csv": (ALLOCATIONS_HEADER, allocations)},
    )


def _fixed_inputs(root: Path, spec: Spec) -> None:
    """Owned servers, vendor charges, a licence and a late milestone: a few rows, round numbers."""
    inbox = root / "inbox"
    owned = [host_name(h, spec) for h in range(spec.cloud_nodes, spec.hosts)]
    write_csv(
        inbox / "assets" / "register.csv",
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
        [
            [
                f"A-{i:04d}",
                host,
                GPUS_PER_NODE,
                "2025-01-01",
                ASSET_LIFE_MONTHS,
                str(ASSET_PRICE),
                str(ASSET_SALVAGE),
                str(ASSET_MAINTENANCE),
                "USD",
                "",
            ]
            for i, host in enumerate(owned)
        ],
    )
    write_csv(
        inbox / "charges" / "invoices.csv",
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
        [
            [
                "LC-001",
                "LabelCo",
                "data",
                "labelling",
                "2026-01-01",
                "2026-01-31",
                str(CHARGE_DATA),
                "USD",
                model_id(1 % spec.models),
                "Relevance labels",
            ],
            [
                "SW-001",
                "Triton Enterprise",
                "software",
                "licence",
                "2026-01-01",
                "2026-01-31",
                str(CHARGE_SOFTWARE),
                "USD",
                model_id(2 % spec.models),
                "Inference server",
            ],
        ],
    )
    write_csv(
        inbox / "charges" / "licences.csv",
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
            [
                "LIC-1",
                "Notebook Co",
                "notebooks",
                "2026-01-01",
                "2026-12-31",
                "monthly",
                str(LICENCE_MONTHLY),
                "USD",
                4,
                f"{model_id(0)}=2;{model_id(1 % spec.models)}=1",
            ]
        ],
    )
    write_csv(
        inbox / "milestones" / "milestones.csv",
        ["model_id", "milestone", "planned_date", "actual_date", "cost_of_delay_per_day", "currency", "started_date"],
        [[model_id(0), "launch", "2026-01-10", "2026-01-14", str(DELAY_PER_DAY), "USD", "2025-12-01"]],
    )


def day_files(root: Path | str, day: date) -> list[Path]:
    """The inbox files of one day (billing, telemetry, usage, FX): what a nightly run adds."""
    inbox = Path(root) / "inbox"
    return sorted(p for p in inbox.rglob("*") if p.is_file() and day.isoformat() in p.name)
