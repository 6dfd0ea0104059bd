"""dcgm-exporter's counters file (`etc/default-counters.csv`): `DCGM_FI_..., gauge|counter, help
(in unit).` lines. It declares the exporter's metrics and stages no samples: the load records
which metrics are counters (energy) and in which unit each is."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import ROW, Parsed, decode_text, line_records
from pipeline.ingest.telemetry.samples import SAMPLE_SCHEMA

FORMAT = "dcgm-exporter-counters"
_COUNTER_LINE = re.compile(
    r"^\s*(DCGM_[A-Z0-9_]+)\s*,\s*(gauge|counter|histogram|summary|label)\s*,\s*(.*)$", re.IGNORECASE
)


def is_counters_file(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return bool(lines) and all(_COUNTER_LINE.match(line) for line in lines)


def read_counters(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The exporter's metric catalogue -> (raw rows, catalogue: metric, type, help, unit)."""
    raw: list[tuple[int, str]] = []
    rows: list[tuple[int, str, str, str, str | None]] = []
    for line in text.splitlines():
        match = _COUNTER_LINE.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        metric, kind, help_text = match.groups()
        unit = re.search(r"\(in ([^)]+)\)", help_text)
        raw.append((len(raw) + 1, line.strip()))
        rows.append((len(rows) + 1, metric.strip(), kind.lower(), help_text.strip(), unit.group(1) if unit else None))
    raw_frame = line_records(raw)
    catalogue = pl.DataFrame(
        rows,
        schema={ROW: pl.Int64, "metric": pl.String, "type": pl.String, "help": pl.String, "unit": pl.String},
        orient="row",
    )
    return raw_frame, catalogue


def read(path: Path, data: bytes, config: Config) -> Parsed:
    raw, catalogue = read_counters(decode_text(data, path))
    counters = catalogue.filter(pl.col("type") == "counter").get_column("metric").to_list()
    empty = pl.DataFrame(schema={ROW: pl.Int64, **SAMPLE_SCHEMA})
    return Parsed(
        format=FORMAT,
        raw=raw,
        rows=empty,
        notes=[f"{catalogue.height} metrics declared, no samples; counters: {', '.join(counters) or 'none'}"],
    )


def detect(head: Head) -> str | None:
    return FORMAT if is_counters_file(head.text) else None


ADAPTER: Adapter[bytes] = Adapter(name="dcgm-exporter counters file", order=50, detect=detect, read=read)
