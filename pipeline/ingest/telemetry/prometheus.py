"""dcgm-exporter telemetry as Prometheus HTTP API answers (`query_range` matrix, `query` vector)
-> staging.gpu_samples rows: one per GPU (or MIG slice), metric and sample time.

One raw row per series; its points are flattened into three text columns and typed in Polars."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import ROW, Parsed, decode_text
from pipeline.ingest.telemetry.samples import (
    LABELS,
    REJECTS,
    WORKLOAD,
    canonical_labels,
    epoch_seconds_to_ts,
    finish,
)

LAYOUT = "prometheus-json"  # what detection sees; the answer's resultType names the format


def _detect(head: Head) -> str | None:
    return LAYOUT if head.text.lstrip().startswith("{") else None


def detect(document: object) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        kind = document["data"].get("resultType")
        if kind == "matrix":
            return "prometheus-query-range"
        if kind == "vector":
            return "prometheus-query"
    return None


def read(path: Path, data: bytes, config: Config) -> Parsed:
    text = decode_text(data, path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", path=path) from None
    del text
    return parse_document(document, path=path, default_step=config.telemetry_step_seconds)


def parse_document(document: object, *, path: Path, default_step: int) -> Parsed:
    fmt = detect(document)
    if fmt is None or not isinstance(document, dict):
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
    rows, rejects, notes = finish(frame, default_step=default_step)
    return Parsed(
        format=fmt,
        raw=pl.DataFrame(raw_rows, schema={ROW: pl.Int64, "record": pl.String}, orient="row"),
        rows=rows,
        rejects=_one_per_row(rejects),
        notes=notes,
    )


def _one_per_row(rejects: pl.DataFrame) -> pl.DataFrame:
    """A series with several bad points is one quarantined row (its first bad point names why)."""
    return rejects.unique(ROW, keep="first", maintain_order=True).cast(REJECTS)


ADAPTER: Adapter[bytes] = Adapter(name="Prometheus API answer (JSON)", order=20, detect=_detect, read=read)
