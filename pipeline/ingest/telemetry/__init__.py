"""GPU telemetry: detect the format from the content and hand the file to its adapter.
Every adapter returns staging.gpu_samples rows (pipeline.ingest.telemetry.samples.SAMPLE_COLUMNS).

Each format is one module of this package defining `ADAPTER` (pipeline.ingest.adapter); they are
asked in this order:

| content | module |
|---|---|
| Parquet magic `PAR1` | long_samples (time, GPU, metric, value, labels) |
| JSON with data.resultType matrix / vector | prometheus (query_range / query answers) |
| nvidia-smi CSV (header with timestamp + query fields, or `YYYY/MM/DD hh:mm:ss, ...` lines) | nvidia_smi |
| CSV with ts, gpu/uuid, metric, value columns | long_samples |
| `DCGM_FI_..., gauge|counter, help` lines | counters: dcgm-exporter's counters file, stages no samples |
| `metric{labels} value [ts]` lines, `# HELP` / `# TYPE` | exposition (scrapes) |

A file whose content is larger than `[ingest] chunk_mib` is parsed a chunk at a time
(pipeline.ingest.telemetry.stream): long samples (CSV, Parquet), nvidia-smi logs and exposition
text. A Prometheus API answer is one JSON document, parsed whole within `[ingest] max_document_mib`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest import adapter
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import PARQUET_MAGIC, Parsed, decode_text

UNRECOGNISED = (
    "unrecognised telemetry file: expected a Prometheus query/query_range JSON answer, an exposition-format scrape, "
    "an nvidia-smi --format=csv log, or a long table (ts, gpu, metric, value) in CSV or Parquet"
)


def adapters() -> tuple[Adapter[bytes], ...]:
    """Every telemetry format, in the order they are asked."""
    return adapter.discover(sys.modules[__name__])


def head_of(text: str) -> Head:
    """What detection sees of a text file: its text and the first line's comma-separated names."""
    first = text.lstrip().split("\n", 1)[0].strip("\r")
    return Head(columns=tuple(c.strip().strip('"') for c in first.split(",")), text=text)


def recognise(path: Path, head: Head) -> Adapter[bytes]:
    """The adapter of a file's format; InputError when none recognises it."""
    found = adapter.first_match(adapters(), head)
    if found is None:
        raise InputError(UNRECOGNISED, path=path)
    return found[0]


def read(path: Path, data: bytes, config: Config) -> Parsed:
    """Parse a whole telemetry file (`data`: its content, gzip already decompressed)."""
    head = Head() if data[:4] == PARQUET_MAGIC else head_of(decode_text(data, path))
    return recognise(path, head).read(path, data, config)
