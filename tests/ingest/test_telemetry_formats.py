"""Each telemetry format, from small inline files: detection, labels, sentinels, units, time zones."""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest import telemetry


def _read(tmp_path: Path, name: str, data: bytes | str, config: Config | None = None):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return telemetry.read(path, path.read_bytes(), config or Config())


def test_query_range_matrix_with_relabelled_workload_mig_and_a_sentinel(tmp_path):
    series = [
        {
            "metric": {
                "__name__": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                "gpu": "0",
                "UUID": "GPU-a",
                "hostname": "n1",
                "GPU_I_PROFILE": "3g.40gb",
                "GPU_I_ID": "2",
                "pod": "dcgm-exporter-x",
                "namespace": "gpu-operator",
                "exported_pod": "rank-0",
                "exported_namespace": "search",
            },
            "values": [[1767261600, "0.5"], [1767261660, "9223372036854775794"], [1767261720, "0.25"]],
        }
    ]
    parsed = _read(
        tmp_path, "a.json", json.dumps({"status": "success", "data": {"resultType": "matrix", "result": series}})
    )
    assert parsed.format == "prometheus-query-range"
    rows = parsed.rows
    # 3 points, the sentinel dropped and counted: 2 samples, step 60 s (smallest distance)
    assert rows.select("namespace", "pod", "mig_profile", "mig_instance", "step_seconds").unique().rows() == [
        ("search", "rank-0", "3g.40gb", "2", 60)
    ]
    assert rows.get_column("value").to_list() == [Decimal("0.5"), Decimal("0.25")]
    assert "1 sentinel samples dropped" in parsed.notes


def test_exposition_with_timestamps_and_scrape_time_from_the_name(tmp_path):
    text = (
        "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="n1",exported_namespace="search",exported_pod="r-0",'
        'pod="nvidia-dcgm-exporter-abc"} 42 1767261600000\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="1",Hostname="n1",pod="nvidia-dcgm-exporter-abc",namespace="gpu-operator"} 0\n'
    )
    parsed = _read(tmp_path, "n1-2026-01-01T10:05:00Z.prom", text)
    rows = parsed.rows.sort("gpu")
    # GPU 0 has its own timestamp (1767261600000 ms = 2026-01-01 10:00:00 UTC); GPU 1 takes the name's time
    assert rows.get_column("ts").to_list() == [datetime(2026, 1, 1, 10, 0), datetime(2026, 1, 1, 10, 5)]
    assert rows.get_column("pod").to_list() == ["r-0", None]  # the exporter's own pod is not a workload


def test_nvidia_smi_with_header_units_and_local_time(tmp_path):
    config = Config.model_validate(
        {
            "nvidia_smi": [
                {
                    "path_pattern": "dc1-gpu-01",
                    "hostname": "dc1-gpu-01",
                    "timezone": "Europe/Berlin",
                    "namespace": "embed",
                    "pod": "embed-server",
                }
            ]
        }
    )
    text = (
        "timestamp, name, index, utilization.gpu [%], power.draw [W]\n"
        "2026/01/05 11:00:00.000, NVIDIA L40S, 0, 35 %, 250.12 W\n"
        "2026/01/05 11:01:00.000, NVIDIA L40S, 0, [N/A], 251.00 W\n"
    )
    parsed = _read(tmp_path, "dc1-gpu-01.csv", text, config)
    assert parsed.format == "nvidia-smi-csv"
    rows = parsed.rows.sort("ts", "metric")
    # Berlin is UTC+1 in January: 11:00 local = 10:00 UTC; the [N/A] utilisation is dropped
    assert rows.select("ts", "metric", "value").rows() == [
        (datetime(2026, 1, 5, 10, 0), "DCGM_FI_DEV_GPU_UTIL", Decimal("35")),
        (datetime(2026, 1, 5, 10, 0), "DCGM_FI_DEV_POWER_USAGE", Decimal("250.12")),
        (datetime(2026, 1, 5, 10, 1), "DCGM_FI_DEV_POWER_USAGE", Decimal("251.00")),
    ]
    assert set(rows.get_column("hostname")) == {"dc1-gpu-01"} and set(rows.get_column("pod")) == {"embed-server"}
    assert set(rows.get_column("step_seconds")) == {60}


def test_nvidia_smi_without_header_needs_its_columns_and_maps_bus_ids(tmp_path):
    config = Config.model_validate(
        {
            "nvidia_smi": [
                {
                    "hostname": "box",
                    "columns": ["timestamp", "pci.bus_id", "power.draw"],
                    "gpus": {"00000000:07:00.0": "0", "00000000:0F:00.0": "1"},
                }
            ]
        }
    )
    text = "2026/01/05 10:00:00.000, 00000000:07:00.0, 100.5 W\n2026/01/05 10:00:00.000, 00000000:0F:00.0, 80 W\n"
    rows = _read(tmp_path, "box.log", text, config).rows.sort("gpu")
    assert rows.select("gpu", "value").rows() == [("0", Decimal("100.5")), ("1", Decimal("80"))]
    with pytest.raises(InputError, match="needs `columns`"):
        _read(tmp_path, "box2.log", text, Config.model_validate({"nvidia_smi": [{"hostname": "box"}]}))


def test_long_parquet_and_csv(tmp_path):
    frame = pl.DataFrame(
        {
            "ts": [datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 10)],
            "gpu": ["0", "1"],
            "metric": ["DCGM_FI_DEV_GPU_UTIL"] * 2,
            "value": [50.0, 0.0],
            "labels": [
                '{"Hostname":"n1","exported_pod":"r-0","exported_namespace":"search","pod":"dcgm-exporter-1"}',
                '{"Hostname":"n1","pod":"dcgm-exporter-1","namespace":"gpu-operator"}',
            ],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    parsed = _read(tmp_path, "long.parquet", buffer.getvalue())
    assert parsed.format == "gpu-samples-long-parquet"
    assert parsed.rows.sort("gpu").select("hostname", "gpu", "namespace", "pod", "value").rows() == [
        ("n1", "0", "search", "r-0", Decimal("50")),
        ("n1", "1", None, None, Decimal("0")),
    ]
    csv_text = (
        "ts,hostname,gpu,metric,value,pod,namespace\n2026-01-01T10:00:00Z,n1,0,DCGM_FI_DEV_POWER_USAGE,300,r-0,search\n"
    )
    assert _read(tmp_path, "long.csv", csv_text).format == "gpu-samples-long-csv"


def test_unknown_text_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(InputError, match="unrecognised telemetry file"):
        _read(tmp_path, "x.txt", "hello, world\n1, 2\n")
