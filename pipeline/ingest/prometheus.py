"""dcgm-exporter telemetry as Prometheus HTTP API answers (`query_range` matrix, `query` vector)
-> staging.gpu_samples rows: one per GPU, metric and sample time."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.parse import ROW, Parsed, decode_text, read_bytes

# DCGM returns these for "field not supported"; they are dropped, never averaged in.
DCGM_SENTINELS = {"9223372036854775794", "9223372036854775807", "2147483647", "4294967295"}
SAMPLE_COLUMNS = ("metric", "ts", "step_seconds", "hostname", "gpu", "uuid", "gpu_model", "namespace", "pod", "container", "value")
REJECT_SCHEMA = {ROW: pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}


def detect(document: object) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        kind = document["data"].get("resultType")
        if kind == "matrix":
            return "prometheus-query-range"
        if kind == "vector":
            return "prometheus-query"
    return None


def _label(labels: dict[str, str], *names: str) -> str | None:
    for name in names:
        value = labels.get(name)
        if value not in (None, ""):
            return value
    return None


def _step(points: list[list], default: int) -> int:
    times = sorted({float(p[0]) for p in points})
    gaps = [b - a for a, b in zip(times, times[1:]) if b > a]
    return int(round(min(gaps))) if gaps else default


def read(path: Path, *, default_step: int = 60) -> Parsed:
    try:
        document = json.loads(decode_text(read_bytes(path), path))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", path=path) from None
    fmt = detect(document)
    if fmt is None:
        raise InputError("expected a Prometheus API answer with data.resultType 'matrix' or 'vector'", path=path)
    series = document["data"].get("result") or []
    raw_rows, columns, rejects = [], {c: [] for c in (ROW, *SAMPLE_COLUMNS)}, []
    for number, item in enumerate(series, start=1):
        raw_rows.append((number, json.dumps(item, separators=(",", ":"), sort_keys=True)))
        labels = item.get("metric") or {}
        points = item.get("values") or ([item["value"]] if "value" in item else [])
        metric = labels.get("__name__")
        host = _label(labels, "Hostname", "hostname", "instance", "node")
        gpu = _label(labels, "gpu", "GPU_I_ID")
        missing = [name for name, value in (("__name__", metric), ("Hostname", host), ("gpu", gpu)) if value is None]
        if missing:
            rejects.append((number, f"metric.{missing[0]}", None, f"expected label {missing[0]!r} on the series"))
            continue
        step = _step(points, default_step)
        for point in points:
            ts, value = point[0], str(point[1])
            if value in DCGM_SENTINELS:
                continue
            columns[ROW].append(number)
            columns["metric"].append(metric)
            columns["ts"].append(float(ts))
            columns["step_seconds"].append(step)
            columns["hostname"].append(host)
            columns["gpu"].append(gpu)
            columns["uuid"].append(labels.get("UUID"))
            columns["gpu_model"].append(labels.get("modelName"))
            columns["namespace"].append(_label(labels, "exported_namespace", "namespace"))
            columns["pod"].append(_label(labels, "exported_pod", "pod"))
            columns["container"].append(_label(labels, "exported_container", "container"))
            columns["value"].append(value)
    rows = pl.DataFrame(columns, schema_overrides={ROW: pl.Int64, "ts": pl.Float64, "step_seconds": pl.Int32})
    rows = rows.with_columns(
        pl.from_epoch((pl.col("ts") * 1000).round().cast(pl.Int64), time_unit="ms").cast(pl.Datetime("us")).alias("ts"),
        pl.col("value").cast(pl.Decimal(38, 9), strict=False).alias("value_d"),
    )
    bad_values = rows.filter(pl.col("value_d").is_null())
    rejected_series = set(bad_values[ROW].to_list())
    for number in sorted(rejected_series):
        first = bad_values.filter(pl.col(ROW) == number).row(0, named=True)
        rejects.append((number, "values", first["value"], "expected numeric sample values"))
    rows = rows.filter(~pl.col(ROW).is_in(list(rejected_series))).drop("value").rename({"value_d": "value"})
    return Parsed(
        format=fmt,
        raw=pl.DataFrame(raw_rows, schema={ROW: pl.Int64, "record": pl.String}, orient="row"),
        rows=rows.select(ROW, *SAMPLE_COLUMNS),
        rejects=pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
    )
