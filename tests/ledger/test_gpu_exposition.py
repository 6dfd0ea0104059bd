"""Exposition scrapes through `costledger run` into the ledger: a GPU node's billed hour split by
the GPU time its scrapes show held, whole GPUs, MIG slices (fractions of a GPU) and time-sliced
pods (the `vgpu` label), with the unheld rest in __idle__."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import samples_or_skip

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telemetry"
FOCUS_HEADER = (
    "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,ProviderName,ServiceName,ResourceId,ResourceName"
)


def _node_row(cost: str, start: str, end: str, node: str) -> str:
    return f"{cost},{cost},USD,2026-01-01 00:00:00,2026-02-01 00:00:00,{start},{end},Usage,AWS,Amazon EC2,{node},{node}"


def _workspace(tmp_path: Path, config: str, telemetry: dict[Path, datetime], billing: list[str]) -> Path:
    """A fresh workspace: the config, the scrapes (modification time = their scrape time, UTC) and
    a FOCUS bill of the nodes' hours."""
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    (ws / "costledger.toml").write_text(config, encoding="utf-8")
    for source, scraped in telemetry.items():
        target = ws / "inbox" / "telemetry" / source.name
        shutil.copyfile(source, target)
        stamp = scraped.replace(tzinfo=UTC).timestamp()
        os.utime(target, (stamp, stamp))
    (ws / "inbox" / "billing" / "nodes.csv").write_text("\n".join([FOCUS_HEADER, *billing]) + "\n", encoding="utf-8")
    return ws


def _ledger(ws: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.mark.slow
def test_h100_scrape_gives_gpu0_to_the_vllm_model_and_seven_gpus_to_idle(tmp_path: Path) -> None:
    sample = samples_or_skip("telemetry", "dcgm", "nvidia-aicr_eks-p5-h100__accelerator-metrics.prom")
    config = """\
reporting_currency = "USD"
telemetry_step_seconds = 3600   # one scrape an hour: each scrape holds its GPUs for the hour after it

[[models]]
id = "vllm-agg"
name = "vLLM aggregated serving"

[[workloads]]
namespace = "dynamo-workload"
pod_pattern = "vllm-.*"
model = "vllm-agg"

[[gpu_pools]]
name = "p5"
node_pattern = "gpu-node-1"
gpus_per_node = 8
"""
    # the scrape has no timestamps: its time is the file's modification time, 10:00 UTC
    ws = _workspace(
        tmp_path,
        config,
        {sample: datetime(2026, 1, 15, 10, 0)},
        [_node_row("98.32", "2026-01-15 10:00:00", "2026-01-15 11:00:00", "gpu-node-1")],
    )

    result = runner.invoke(app, ["run", "-w", str(ws), "--date", "2026-01-31"])

    assert result.exit_code == 0, result.output
    assert "published: 2026-01" in result.output
    rows = _ledger(
        ws, "select model_id, sum(billed_cost), sum(quantity) from ledger.cost_ledger group by all order by all"
    )
    # 8 GPUs x 1 h = 8 GPU-hours. GPU 0 is held by pod vllm-agg-0-vllmdecodeworker-s65j5 in
    # namespace dynamo-workload: 1 GPU-hour, 98.32 / 8 = 12.29. GPUs 1-7 carry no pod: 7 GPU-hours
    # idle, 98.32 x 7 / 8 = 86.03. 12.29 + 86.03 = 98.32.
    assert rows == [("__idle__", Decimal("86.03"), Decimal("7")), ("vllm-agg", Decimal("12.29"), Decimal("1"))]


@pytest.mark.slow
def test_mig_slices_and_time_sliced_pods_count_as_fractions_of_a_gpu(tmp_path: Path) -> None:
    config = """\
reporting_currency = "USD"
telemetry_step_seconds = 1800

[[models]]
id = "search-ranker"
name = "Search ranking"

[[models]]
id = "rec-llm"
name = "Recommendation LLM"

[[workloads]]
namespace = "search"
model = "search-ranker"

[[workloads]]
namespace = "recommend"
model = "rec-llm"

[[gpu_pools]]
name = "a100-mig"
node_pattern = "a100-node-1"
gpus_per_node = 2               # mig_slices = 7 (the default): 3g.40gb holds 3/7 of a GPU

[[gpu_pools]]
name = "a100-shared"
node_pattern = "a100-vgpu-node"
gpus_per_node = 1
time_slicing_replicas = 4       # each pod on the GPU holds 1/4 of it
"""
    mig = FIXTURES / "dcgm-a100-mig" / "a100-mig-two-scrapes.prom"
    shared = FIXTURES / "dcgm-a100-vgpu" / "a100-vgpu-timesliced.prom"
    # two MIG scrapes without timestamps: the last at the file time 10:30, the first a step (30 min) before
    ws = _workspace(
        tmp_path,
        config,
        {mig: datetime(2026, 1, 15, 10, 30), shared: datetime(2026, 1, 15, 10, 0)},
        [
            _node_row("56.00", "2026-01-15 10:00:00", "2026-01-15 11:00:00", "a100-node-1"),
            _node_row("3.00", "2026-01-15 10:00:00", "2026-01-15 10:30:00", "a100-vgpu-node"),
        ],
    )

    result = runner.invoke(app, ["run", "-w", str(ws), "--date", "2026-01-31"])

    assert result.exit_code == 0, result.output
    rows = _ledger(
        ws,
        "select split_part(source_ref, ':', 2)::int as row, model_id, sum(billed_cost) "
        "from ledger.cost_ledger group by all order by all",
    )
    # Row 1, the MIG node (2 GPUs, 10:00-11:00), in 1/7-GPU x half-hour units, 2 x 7 x 2 = 28:
    #   10:00 scrape: GPU 0 3g.40gb ranker-0 (search) 3, 2g.20gb rec-llm-0 (recommend) 2, two idle
    #   1g.10gb slices 1 + 1; GPU 1 whole, ranker-1 (search) 7.
    #   10:30 scrape: the same, but 1g.10gb slice 9 now held by rec-llm-1 (recommend): 3, 2 + 1, idle 1; GPU 1 7.
    #   search 3 + 7 + 3 + 7 = 20, recommend 2 + 2 + 1 = 5, idle 1 + 1 + 1 = 3.
    #   56.00 x 20/28 = 40.00, 56.00 x 5/28 = 10.00, 56.00 x 3/28 = 6.00.
    # Row 2, the time-sliced A100 (1 GPU, 10:00-10:30, 4 replicas): embed-0 (search, vgpu 0) 1/4 and
    #   rec-small-0 (recommend, vgpu 1) 1/4 of 3.00 = 0.75 each; the 2 unused replicas 1.50 idle.
    assert rows == [
        (1, "__idle__", Decimal("6.00")),
        (1, "rec-llm", Decimal("10.00")),
        (1, "search-ranker", Decimal("40.00")),
        (2, "__idle__", Decimal("1.50")),
        (2, "rec-llm", Decimal("0.75")),
        (2, "search-ranker", Decimal("0.75")),
    ]


def test_a_gpu_level_sample_beside_the_gpus_mig_slices_adds_no_idle_time() -> None:
    """A scrape may carry a MIG GPU's device-level series (no GPU_I_* labels, no pod) beside its
    slices' series; the slices already account for the whole GPU."""
    import polars as pl

    from pipeline.config import Config
    from pipeline.ledger.gpu import gpu_weights

    config = Config.model_validate(
        {
            "models": [{"id": "search-ranker", "name": "Search ranking"}],
            "workloads": [{"namespace": "search", "model": "search-ranker"}],
            "gpu_pools": [{"name": "a100", "node_pattern": "n1", "gpus_per_node": 1}],
        }
    )
    at = datetime(2026, 1, 15, 10)
    sample = {"ts": at, "step_seconds": 3600, "hostname": "n1", "gpu": "0", "container": None, "labels": None}
    slices = [
        {
            **sample,
            "metric": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
            "mig_profile": "3g.40gb",
            "mig_instance": "2",
            "namespace": "search",
            "pod": "ranker-0",
            "container": "ranker",
            "value": Decimal("0.5"),
        },
        {
            **sample,
            "metric": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
            "mig_profile": "4g.40gb",
            "mig_instance": "1",
            "namespace": None,
            "pod": None,
            "value": Decimal("0"),
        },
    ]
    device = {
        **sample,
        "metric": "DCGM_FI_DEV_POWER_USAGE",
        "mig_profile": None,
        "mig_instance": None,
        "namespace": None,
        "pod": None,
        "value": Decimal("250"),
    }
    for samples in (slices, [*slices, device]):
        weights = gpu_weights(pl.DataFrame(samples), config, config.gpu_pools[0], every="1h")
        held = dict(weights.frame.select("model_id", "gpu_units").rows())
        # one GPU-hour in sevenths of a GPU x ms: 3g.40gb held 3 x 3,600,000 = 10,800,000; the idle
        # 4g.40gb slice 4 x 3,600,000 = 14,400,000; together 7 x 3,600,000, the whole GPU once
        assert (weights.slices, held) == (7, {"search-ranker": 10_800_000, "__idle__": 14_400_000})
