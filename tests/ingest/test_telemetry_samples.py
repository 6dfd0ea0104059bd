"""The real telemetry samples in ../shared/samples/telemetry/ (never copied into the project)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from pipeline.config import Config
from pipeline.ingest import telemetry
from pipeline.ledger.gpu import gpu_weights
from tests.conftest import SAMPLES, samples_or_skip

H100 = "nvidia-aicr_eks-p5-h100__accelerator-metrics.prom"
CONFIG = Config.model_validate(
    {
        "models": [{"id": "vllm-agg", "name": "vLLM aggregated"}],
        "workloads": [{"namespace": "dynamo-workload", "pod_pattern": "vllm-.*", "model": "vllm-agg"}],
    }
)


def _files():
    folder = SAMPLES / "telemetry"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_telemetry_sample_parses_and_balances(path):
    parsed = telemetry.read(path, path.read_bytes(), CONFIG)
    assert parsed.rows_in > 0
    assert parsed.rows_in == parsed.rows_loaded + parsed.rows_quarantined
    assert parsed.rows_quarantined == 0  # every real line is a good sample (or, for the counters file, a metric)


def test_h100_scrape_gpu0_is_held_by_the_vllm_pod_and_seven_are_idle():
    path = samples_or_skip("telemetry", "dcgm", H100)
    rows = telemetry.read(path, path.read_bytes(), CONFIG).rows
    util = rows.filter(pl.col("metric") == "DCGM_FI_DEV_GPU_UTIL").sort("gpu")
    assert util.get_column("gpu").to_list() == [str(i) for i in range(8)]
    assert util.get_column("namespace").to_list() == ["dynamo-workload"] + [None] * 7
    assert util.row(0, named=True)["pod"] == "vllm-agg-0-vllmdecodeworker-s65j5"
    # one scrape, no timestamps: each GPU holds one default step (60 s) from the scrape time.
    # GPU 0: vllm-agg 60 s; GPUs 1-7: idle 7 x 60 = 420 s.
    weights = gpu_weights(rows, CONFIG, CONFIG.owned, every="1h").frame
    seconds = {r["model_id"]: r["gpu_units"] // 1000 for r in weights.iter_rows(named=True)}  # S = 1 here
    assert seconds == {"vllm-agg": 60, "__idle__": 420}


def test_h100_api_answers_keep_the_exporter_pod_out_of_the_workload():
    # query answers label every series with the dcgm-exporter's own pod (namespace gpu-operator);
    # only GPU 0 of gpu-node-1 carries the vLLM pod, the other 15 GPUs of both nodes are idle.
    path = samples_or_skip("telemetry", "dcgm", "nvidia-aicr_eks-p5-h100__prometheus-api_DCGM_FI_DEV_POWER_USAGE.json")
    rows = telemetry.read(path, path.read_bytes(), CONFIG).rows
    held = rows.filter(pl.col("pod").is_not_null())
    assert held.select("hostname", "gpu", "namespace").rows() == [("gpu-node-1", "0", "dynamo-workload")]
    assert held.get_column("value").to_list() == [Decimal("113.611")]
    assert rows.height == 16 and set(rows.get_column("namespace").drop_nulls()) == {"dynamo-workload"}


def test_kops_file_holds_two_scrapes_a_step_apart():
    # the same 23-line L4 scrape twice, without timestamps, each copy under its own HELP/TYPE lines:
    # two scrapes, 46 lines in, 46 samples; the second at the file's time, the first 60 s before
    path = samples_or_skip("telemetry", "dcgm", "v1.35_kops__output.prom")
    parsed = telemetry.read(path, path.read_bytes(), CONFIG)
    assert (parsed.rows_in, parsed.rows.height) == (46, 46)
    times = sorted(set(parsed.rows.get_column("ts")))
    assert len(times) == 2 and (times[1] - times[0]).total_seconds() == 60
    per_time = parsed.rows.group_by("ts").agg(pl.col("metric").n_unique().alias("metrics"), pl.len().alias("samples"))
    assert set(per_time.select("metrics", "samples").rows()) == {(23, 23)}
    assert set(parsed.rows.get_column("hostname")) == {"i-030791dc5a37cd257"}
