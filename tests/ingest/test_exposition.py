"""Prometheus exposition scrapes: one scrape or many concatenated, with and without timestamps, and
the label sets dcgm-exporter writes for any GPU model, MIG slices, time-sliced pods (`vgpu`) and
Prometheus-relabelled workloads (`exported_*`). The fixtures under tests/fixtures/telemetry/ are
written from dcgm-exporter's documented labels; the corpus test loads them through the CLI too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.ingest import telemetry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telemetry"
UTIL = 'DCGM_FI_DEV_GPU_UTIL{{gpu="{gpu}",UUID="GPU-{gpu}",modelName="NVIDIA H200",Hostname="n1"}} {value}'


def _read(path: Path, *, step: int = 60):
    return telemetry.read(path, path.read_bytes(), Config.model_validate({"telemetry_step_seconds": step}))


def _write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_repeated_series_starts_the_next_scrape_one_step_earlier(tmp_path: Path) -> None:
    # no HELP lines; GPU 0 appears three times: three scrapes, the last at the file name's time
    path = _write(
        tmp_path,
        "n1-2026-01-05T10:00:00Z.prom",
        UTIL.format(gpu=0, value=10),
        UTIL.format(gpu=1, value=0),
        UTIL.format(gpu=0, value=20),
        UTIL.format(gpu=1, value=0),
        UTIL.format(gpu=0, value=30),
        UTIL.format(gpu=1, value=5),
    )
    parsed = _read(path, step=30)
    rows = parsed.rows.sort("ts", "gpu")
    # 6 lines, 6 samples: scrapes at 10:00 - 2 x 30 s, 10:00 - 30 s and 10:00
    assert rows.select("ts", "gpu", "value").rows() == [
        (datetime(2026, 1, 5, 9, 59), "0", Decimal("10")),
        (datetime(2026, 1, 5, 9, 59), "1", Decimal("0")),
        (datetime(2026, 1, 5, 9, 59, 30), "0", Decimal("20")),
        (datetime(2026, 1, 5, 9, 59, 30), "1", Decimal("0")),
        (datetime(2026, 1, 5, 10, 0), "0", Decimal("30")),
        (datetime(2026, 1, 5, 10, 0), "1", Decimal("5")),
    ]
    assert parsed.rows_in == 6 and parsed.rows_quarantined == 0
    scrapes = [note for note in parsed.notes if note.startswith("3 scrapes;")]
    assert len(scrapes) == 1 and scrapes[0].endswith("(the first 2026-01-05 09:59:00)"), parsed.notes


def test_a_repeated_help_line_starts_the_next_scrape(tmp_path: Path) -> None:
    # the two scrapes name different GPUs (GPU 1 appeared between them): the HELP line marks the cut
    help_lines = ("# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).", "# TYPE DCGM_FI_DEV_GPU_UTIL gauge")
    path = _write(
        tmp_path,
        "scrapes.prom",
        "# scrape_time 2026-01-05T10:00:00Z",
        *help_lines,
        UTIL.format(gpu=0, value=10),
        *help_lines,
        UTIL.format(gpu=1, value=50),
    )
    rows = _read(path).rows.sort("gpu")
    # the comment dates the file's last scrape (GPU 1) 10:00; the first, GPU 0, 60 s before
    assert rows.select("gpu", "ts").rows() == [("0", datetime(2026, 1, 5, 9, 59)), ("1", datetime(2026, 1, 5, 10, 0))]


def test_one_scrape_keeps_the_scrape_time(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "one.prom", "# scrape_time 1767607200", UTIL.format(gpu=0, value=1), UTIL.format(gpu=1, value=2)
    )
    parsed = _read(path)
    # 1767607200 = 2026-01-05 10:00:00 UTC, both samples
    assert set(parsed.rows.get_column("ts")) == {datetime(2026, 1, 5, 10, 0)}
    assert parsed.notes[0] == (
        "samples without a timestamp take the scrape time 2026-01-05 10:00:00 (scrape_time comment)"
    )


def test_mig_slices_keep_profile_and_instance(tmp_path: Path) -> None:
    parsed = _read(FIXTURES / "dcgm-a100-mig" / "a100-mig-two-scrapes.prom")
    rows = parsed.rows
    # 20 sample lines (and 8 HELP/TYPE): 2 scrapes x 2 metrics x (4 MIG slices of GPU 0 + GPU 1 whole)
    assert (parsed.rows_in, rows.height, parsed.rows_quarantined) == (20, 20, 0)
    gpu0 = rows.filter((pl.col("gpu") == "0") & (pl.col("metric") == "DCGM_FI_DEV_FB_USED"))
    gpu0 = gpu0.sort("ts", "mig_instance")  # instance ids sort as text: "10" < "2" < "3" < "9"
    assert gpu0.select("mig_profile", "mig_instance", "pod").rows() == [
        ("1g.10gb", "10", None),
        ("3g.40gb", "2", "ranker-0"),
        ("2g.20gb", "3", "rec-llm-0"),
        ("1g.10gb", "9", None),  # first scrape: slice 9 idle
        ("1g.10gb", "10", None),
        ("3g.40gb", "2", "ranker-0"),
        ("2g.20gb", "3", "rec-llm-0"),
        ("1g.10gb", "9", "rec-llm-1"),  # second scrape: a pod on slice 9
    ]
    assert set(rows.filter(pl.col("gpu") == "1").get_column("mig_profile")) == {None}
    assert set(rows.get_column("gpu_model")) == {"NVIDIA A100-SXM4-80GB"}


def test_time_sliced_pods_keep_their_vgpu_replica(tmp_path: Path) -> None:
    rows = _read(FIXTURES / "dcgm-a100-vgpu" / "a100-vgpu-timesliced.prom").rows
    # one scrape: each metric once per pod sharing GPU 0, told apart by `vgpu` (2 pods x 3 metrics)
    assert rows.height == 6 and rows.get_column("ts").n_unique() == 1
    pods = sorted(set(rows.select("vgpu", "namespace", "pod").rows()))
    assert pods == [("0", "search", "embed-0"), ("1", "recommend", "rec-small-0")]


def test_federated_t4_scrapes_take_the_exported_workload_and_their_own_times(tmp_path: Path) -> None:
    parsed = _read(FIXTURES / "prometheus-t4" / "t4-federate-two-calls.prom")
    rows = parsed.rows.sort("hostname", "metric", "ts")
    assert (parsed.rows_in, rows.height, parsed.rows_quarantined) == (8, 8, 0)
    # the samples carry their own times: 1768471200000 ms = 2026-01-15 10:00:00, 30 s later the second call
    assert sorted(set(rows.get_column("ts"))) == [datetime(2026, 1, 15, 10, 0), datetime(2026, 1, 15, 10, 0, 30)]
    # node 1's workload is the relabelled exported_pod; node 2 shows only the exporter's own pod: no workload
    workloads = set(rows.select("hostname", "namespace", "pod", "container").rows())
    assert workloads == {
        ("ip-10-0-1-17.ec2.internal", "search", "ranker-6f7c9d-abcde", "ranker"),
        ("ip-10-0-2-42.ec2.internal", None, None, None),
    }
    node1 = pl.col("hostname").str.starts_with("ip-10-0-1")
    energy = rows.filter((pl.col("metric") == "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION") & node1)
    # 2.87654321e+08 and 2.87656789e+08, exactly
    assert energy.get_column("value").to_list() == [Decimal("287654321"), Decimal("287656789")]


def test_l40s_with_timestamps_and_the_lower_case_hostname(tmp_path: Path) -> None:
    parsed = _read(FIXTURES / "dcgm-l40s" / "l40s-with-timestamps.prom")
    rows = parsed.rows
    # 3 metrics x 2 GPUs x 2 times (1768471200000 and 1768471215000 ms: 10:00:00 and 10:00:15 UTC)
    assert rows.height == 12 and set(rows.get_column("hostname")) == {"l40s-box-1"}
    assert sorted(set(rows.get_column("ts"))) == [datetime(2026, 1, 15, 10, 0), datetime(2026, 1, 15, 10, 0, 15)]
    assert not any("scrape" in note for note in parsed.notes)  # every sample had its own time
    power = rows.filter((pl.col("metric") == "DCGM_FI_DEV_POWER_USAGE") & (pl.col("gpu") == "0")).sort("ts")
    assert power.select("pod", "value").rows() == [
        ("reranker-0", Decimal("301.25")),
        ("reranker-0", Decimal("305.004")),
    ]
