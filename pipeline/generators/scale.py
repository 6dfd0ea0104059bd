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
bytes. `Spec` sizes a workspace; `SCALES` holds M, L and F, and tests build tiny ones (both in
scale_spec); the HR and fixed inputs are written by scale_fixed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from pipeline.generators.csvfiles import write_csv
from pipeline.generators.demo import generate_estate
from pipeline.generators.scale_fixed import write_fixed_inputs, write_labor
from pipeline.generators.scale_spec import (
    DAYS,
    EUR_RATE_BASE,
    FIRST_DAY,
    GPUS_PER_NODE,
    MONTH,
    NODE_HOURLY,
    PUE,
    PURCHASE,
    SCALES,
    STEP,
    TARIFF,
    WATTS_BUSY,
    WATTS_IDLE,
    Spec,
    model_id,
)
from pipeline.progress import Progress
from pipeline.warehouse import fill, sql_text
from pipeline.workspace import Workspace


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
    write_labor(root, spec, seed)
    write_fixed_inputs(root, spec)
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


def day_files(root: Path | str, day: date) -> list[Path]:
    """The inbox files of one day (billing, telemetry, usage, FX): what a nightly run adds."""
    inbox = Path(root) / "inbox"
    return sorted(p for p in inbox.rglob("*") if p.is_file() and day.isoformat() in p.name)
