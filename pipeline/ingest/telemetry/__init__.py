"""GPU telemetry: detect the format from the content and hand the file to its adapter.
Every adapter returns staging.gpu_samples rows (pipeline.ingest.telemetry.samples.SAMPLE_COLUMNS).

| content | adapter |
|---|---|
| Parquet magic `PAR1` | long_samples (time, GPU, metric, value, labels) |
| JSON with data.resultType matrix / vector | prometheus (query_range / query answers) |
| `metric{labels} value [ts]` lines, `# HELP` / `# TYPE` | exposition (scrapes) |
| nvidia-smi CSV (header with timestamp + query fields, or `YYYY/MM/DD hh:mm:ss, ...` lines) | nvidia_smi |
| CSV with ts, gpu/uuid, metric, value columns | long_samples |
| `DCGM_FI_..., gauge|counter, help` lines | dcgm-exporter's counters file: recorded, stages no samples |
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.parse import ROW, Parsed, decode_text
from pipeline.ingest.telemetry import exposition, long_samples, nvidia_smi, prometheus
from pipeline.ingest.telemetry import samples as dcgm


def read(path: Path, data: bytes, config: Config) -> Parsed:
    step = config.telemetry_step_seconds
    if data[:4] == b"PAR1":
        return long_samples.read(path, data, default_step=step)
    text = decode_text(data, path)
    head = text.lstrip()
    if head.startswith("{"):
        return prometheus.read(path, default_step=step, data=data)
    first = head.split("\n", 1)[0].strip("\r")
    if nvidia_smi.detect(first) is not None:
        return nvidia_smi.read(path, data, config)
    if long_samples.detect_header([c.strip().strip('"') for c in first.split(",")]):
        return long_samples.read(path, data, default_step=step)
    if dcgm.is_counters_file(text):
        raw, catalogue = dcgm.read_counters(text)
        counters = catalogue.filter(pl.col("type") == "counter").get_column("metric").to_list()
        empty = pl.DataFrame(schema={ROW: pl.Int64, **dcgm.SAMPLE_SCHEMA})
        return Parsed(
            format=dcgm.COUNTERS_FORMAT,
            raw=raw,
            rows=empty,
            notes=[f"{catalogue.height} metrics declared, no samples; counters: {', '.join(counters) or 'none'}"],
        )
    if exposition.detect(text):
        return exposition.read(path, data, default_step=step)
    raise InputError(
        "unrecognised telemetry file: expected a Prometheus query/query_range JSON answer, an exposition-format "
        "scrape, "
        "an nvidia-smi --format=csv log, or a long table (ts, gpu, metric, value) in CSV or Parquet",
        path=path,
    )
