"""GPU telemetry in a long table, Parquet or CSV: one row per time, GPU, metric and value, with
labels -> staging.gpu_samples rows.

Columns (names matched case-insensitively): a time (`ts`, `time`, `timestamp`: ISO text, a
timestamp, or epoch seconds), `metric` (or `__name__`/`name`), `value`, the GPU (`gpu` and/or
`uuid`), and either the canonical label columns (`hostname`, `namespace`, `pod`, ...) or a
`labels` column (JSON object text, or a Parquet map/struct) with dcgm-exporter spellings
(`Hostname`, `exported_pod`, `GPU_I_PROFILE`, ...). Everything is vectorised."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import ROW, Parsed, decode_text, parse_timestamp, raw_records
from pipeline.ingest.telemetry.samples import (
    EXPORTER_POD,
    LABELS,
    WHOLE,
    WORKLOAD,
    Steps,
    epoch_seconds_to_ts,
    finish,
)

FORMAT_PARQUET = "gpu-samples-long-parquet"
FORMAT_CSV = "gpu-samples-long-csv"
_TIME = ("ts", "time", "timestamp")
_METRIC = ("metric", "__name__", "name")


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def detect_header(header: list[str]) -> bool:
    return (
        all(_pick(header, names) for names in (_TIME, _METRIC, ("value",)))
        and _pick(header, ("gpu", "uuid")) is not None
    )


def detect(head: Head) -> str | None:
    """Parquet (whose head has no text: every Parquet file is read as long samples, which says
    which columns are missing), or CSV with the long table's columns."""
    if not head.text:
        return FORMAT_PARQUET
    return FORMAT_CSV if detect_header(list(head.columns)) else None


def read(path: Path, data: bytes, config: Config) -> Parsed:
    if data[:4] == b"PAR1":
        try:
            frame = pl.read_parquet(io.BytesIO(data))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputError(f"not a readable Parquet file: {str(exc).splitlines()[0]}", path=path) from None
        return read_frame(path, frame, FORMAT_PARQUET, config)
    return read_frame(path, csv_frame(path, data), FORMAT_CSV, config)


def csv_frame(path: Path, data: bytes) -> pl.DataFrame:
    """The CSV's cells as text (empty: null)."""
    try:
        return pl.read_csv(io.StringIO(decode_text(data, path)), infer_schema=False, null_values=[""])
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"not a readable CSV file: {str(exc).splitlines()[0]}", path=path) from None


def read_frame(
    path: Path, frame: pl.DataFrame, fmt: str, config: Config, *, first: int = 0, steps: Steps = WHOLE
) -> Parsed:
    """The long table's rows (numbered from `first` + 1) -> samples."""
    frame = frame.with_row_index(ROW, offset=first + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    if not detect_header(frame.columns):
        raise InputError(
            f"expected columns ts, gpu (or uuid), metric, value; found {frame.columns[1:]}", path=path, row=0
        )
    text = samples_frame(frame)
    rows, rejects, notes = finish(text, default_step=config.telemetry_step_seconds, steps=steps)
    raw = raw_records(frame.with_columns(pl.exclude(ROW).cast(pl.String)))
    return Parsed(format=fmt, raw=raw, rows=rows, rejects=rejects, notes=notes)


def _label_expr(labels: pl.Expr, name: str) -> pl.Expr:
    return labels.str.json_path_match(f"$['{name}']")


def samples_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The long table -> the text frame `samples.finish` types (columns by canonical name)."""
    columns = frame.collect_schema().names()
    schema = frame.collect_schema()
    time_col, metric_col, value_col = _pick(columns, _TIME), _pick(columns, _METRIC), _pick(columns, ("value",))
    assert time_col is not None and metric_col is not None and value_col is not None  # detect_header said so
    ts_dtype = schema[time_col]
    if ts_dtype == pl.String:
        ts = (
            pl.when(pl.col(time_col).str.contains(r"^\d{9,10}(\.\d+)?$"))
            .then(epoch_seconds_to_ts(pl.col(time_col)))
            .otherwise(parse_timestamp(pl.col(time_col)))
        )
    elif ts_dtype.is_numeric():
        ts = epoch_seconds_to_ts(pl.col(time_col))
    elif isinstance(ts_dtype, pl.Datetime):
        ts = (
            pl.col(time_col).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            if ts_dtype.time_zone
            else pl.col(time_col)
        )
        ts = ts.cast(pl.Datetime("us"))
    else:
        ts = pl.col(time_col).cast(pl.Datetime("us"))
    labels_col = _pick(columns, ("labels",))
    labels = None
    if labels_col is not None:
        dtype = schema[labels_col]
        if isinstance(dtype, pl.Struct):
            labels = pl.col(labels_col).struct.json_encode()
        elif isinstance(dtype, pl.List):  # a Parquet map arrives as a list of {key, value}
            labels = (
                pl.col(labels_col)
                .list.eval(pl.format('"{}":"{}"', pl.element().struct.field("key"), pl.element().struct.field("value")))
                .list.join(",")
            )
            labels = pl.format("{{}}", labels)
        else:
            labels = pl.col(labels_col)
    exprs = [
        pl.col(ROW),
        ts.alias("ts"),
        pl.col(metric_col).cast(pl.String).alias("metric"),
        pl.col(value_col).cast(pl.String).alias("value"),
    ]
    canonical = {**LABELS, **{w: (w,) for w in WORKLOAD}}
    for column, spellings in canonical.items():
        direct = _pick(columns, (column, *spellings))
        candidates = [pl.col(direct).cast(pl.String)] if direct else []
        if labels is not None:
            if column in WORKLOAD:
                candidates = [_label_expr(labels, f"exported_{column}")] + candidates + [_label_expr(labels, column)]
            else:
                candidates += [_label_expr(labels, s) for s in spellings]
        exprs.append((pl.coalesce(candidates) if candidates else pl.lit(None, dtype=pl.String)).alias(column))
    step = _pick(columns, ("step_seconds", "step"))
    exprs.append((pl.col(step).cast(pl.Int32) if step else pl.lit(None, dtype=pl.Int32)).alias("step_seconds"))
    exprs.append(pl.lit(None, dtype=pl.String).alias("labels"))
    out = frame.select(exprs)
    exporter = pl.col("pod").str.contains(f"^(?:{EXPORTER_POD.pattern})$").fill_null(False) | pl.col(
        "container"
    ).str.contains(f"^(?:{EXPORTER_POD.pattern})$").fill_null(False)
    return out.with_columns([pl.when(exporter).then(None).otherwise(pl.col(w)).alias(w) for w in WORKLOAD])


ADAPTER: Adapter[bytes] = Adapter(
    name="GPU samples, long table", order=40, detect=detect, read=read, signature=("ts", "gpu", "metric", "value")
)
