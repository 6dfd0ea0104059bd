"""dcgm-exporter telemetry as Prometheus HTTP API answers (`query_range` matrix, `query` vector)
-> staging.gpu_samples rows: one per GPU (or MIG slice), metric and sample time.

One raw row per series; its points are flattened into three text columns and typed in Polars."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.parse import REJECT_SCHEMA, ROW, Parsed, decode_text, read_bytes
from pipeline.ingest.telemetry.samples import (
    DCGM_SENTINELS,
    LABELS,
    SAMPLE_COLUMNS,
    WORKLOAD,
    canonical_labels,
    epoch_seconds_to_ts,
    finish,
)

__all__ = ["DCGM_SENTINELS", "SAMPLE_COLUMNS", "detect", "parse_document", "read"]


def detect(document: object) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        kind = document["data"].get("resultType")
        if kind == "matrix":
            return "prometheus-query-range"
        if kind == "vector":
            return "prometheus-query"
    return None


def read(path: Path, *, default_step: int = 60, data: bytes | None = None) -> Parsed:
    text = decode_text(read_bytes(path) if data is None else data, path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", path=path) from None
    return parse_document(document, path=path, default_step=default_step)


def parse_document(document: object, *, path: Path, default_step: int) -> Parsed:
    fmt = detect(document)
    if fmt is None:
        raise InputError("expected a Prometheus API answer with data.resultType 'matrix' or 'vector'", path=path)
    series = document["data"].get("result") or []
    raw_rows, label_rows = [], []
    numbers: list[int] = []  # the points, flat: their series' row number, time and value as text
    stamps: list[str] = []
    values: list[str] = []
    for number, item in enumerate(series, start=1):
        raw_rows.append((number, json.dumps(item, separators=(",", ":"), sort_keys=True)))
        labels = item.get("metric") or {}
        points = item.get("values") or ([item["value"]] if "value" in item else [])
        label_rows.append({ROW: number, "metric": labels.get("__name__"), **canonical_labels(labels)})
        numbers.extend([number] * len(points))
        stamps.extend([str(p[0]) for p in points])
        values.extend([str(p[1]) for p in points])
    label_schema = {ROW: pl.Int64, "metric": pl.String, **{c: pl.String for c in (*LABELS, *WORKLOAD, "labels")}}
    flat = pl.DataFrame(
        {ROW: numbers, "_ts": stamps, "value": values}, schema={ROW: pl.Int64, "_ts": pl.String, "value": pl.String}
    )
    frame = flat.join(pl.DataFrame(label_rows, schema=label_schema), on=ROW, how="left", maintain_order="left")
    frame = frame.with_columns(epoch_seconds_to_ts(pl.col("_ts")).alias("ts")).drop("_ts")
    gaps = pl.col("ts").unique().sort().diff().dt.total_seconds()
    steps = frame.group_by(ROW).agg(gaps.filter(gaps > 0).min().round().cast(pl.Int32).alias("step_seconds"))
    frame = frame.join(steps, on=ROW, how="left")
    rows, rejects, counts = finish(frame, default_step=default_step)
    return Parsed(
        format=fmt,
        raw=pl.DataFrame(raw_rows, schema={ROW: pl.Int64, "record": pl.String}, orient="row"),
        rows=rows,
        rejects=_one_per_row(rejects),
        notes=[f"{n} {what.replace('_', ' ')}" for what, n in counts.items() if n],
    )


def _one_per_row(rejects: pl.DataFrame) -> pl.DataFrame:
    """A series with several bad points is one quarantined row (its first bad point names why)."""
    return rejects.unique(ROW, keep="first", maintain_order=True).cast(REJECT_SCHEMA)
