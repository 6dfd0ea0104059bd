"""`nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]` logs -> staging.gpu_samples rows.

The log names neither host nor pod and writes local time without a zone, so a `[[nvidia_smi]]`
config entry (matched on the file path) gives the host, the time zone, the column list when the
log has no header line, the GPU of each pci.bus_id/uuid/name when there is no `index` column, and
optionally the workload of a dedicated server. Units may sit in the header (`power.draw [W]`) and
in the values (`250.12 W`, `35 %`); `[N/A]` and `[Not Supported]` are dropped and counted."""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

from pipeline import patterns
from pipeline.config import Config, NvidiaSmiSource
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import ROW, Parsed, decode_text, raw_records
from pipeline.ingest.telemetry.samples import CHUNK, WHOLE, Steps, finish

FORMAT = "nvidia-smi-csv"
# nvidia-smi query field -> dcgm-exporter metric name (so every format lands in the same metrics)
METRICS = {
    "utilization.gpu": "DCGM_FI_DEV_GPU_UTIL",
    "utilization.memory": "DCGM_FI_DEV_MEM_COPY_UTIL",
    "power.draw": "DCGM_FI_DEV_POWER_USAGE",
    "power.draw.instant": "DCGM_FI_DEV_POWER_USAGE",
    "power.draw.average": "DCGM_FI_DEV_POWER_USAGE",
    "memory.used": "DCGM_FI_DEV_FB_USED",
    "memory.free": "DCGM_FI_DEV_FB_FREE",
    "temperature.gpu": "DCGM_FI_DEV_GPU_TEMP",
    "temperature.memory": "DCGM_FI_DEV_MEMORY_TEMP",
    "clocks.sm": "DCGM_FI_DEV_SM_CLOCK",
    "clocks.current.sm": "DCGM_FI_DEV_SM_CLOCK",
    "clocks.mem": "DCGM_FI_DEV_MEM_CLOCK",
    "clocks.current.memory": "DCGM_FI_DEV_MEM_CLOCK",
    "total_energy_consumption": "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
}
_ID_COLUMNS = ("timestamp", "index", "uuid", "name", "pci.bus_id", "gpu_name", "gpu_uuid", "gpu_bus_id")
_STAMP = re.compile(r"^\s*\d{4}[/-]\d{2}[/-]\d{2} \d{2}:\d{2}:\d{2}")


def _field(header: str) -> str:
    """`power.draw [W]` -> `power.draw`."""
    return re.sub(r"\s*\[[^\]]*\]\s*$", "", header.strip()).strip().lower()


def detect(first_line: str) -> str | None:
    """'header' or 'headerless' when the first line looks like nvidia-smi CSV output, else None."""
    fields = [_field(f) for f in first_line.split(",")]
    if "timestamp" in fields and any(f in METRICS for f in fields):
        return "header"
    if _STAMP.match(first_line) and "," in first_line:
        return "headerless"
    return None


def source_for(path: Path, config: Config) -> NvidiaSmiSource:
    sources = [s for s in config.nvidia_smi if patterns.search(s.path_pattern, path.as_posix())]  # linear time
    if not sources:
        raise InputError(
            "an nvidia-smi log names no host: declare it in costledger.toml as [[nvidia_smi]] with path_pattern and "
            "hostname",
            path=path,
        )
    return sources[0]


def read(path: Path, data: bytes, config: Config) -> Parsed:
    return _read(path, data, config)


class Chunks:
    """A log read a chunk at a time (pipeline.ingest.telemetry.stream). A sample's step is the
    smallest positive distance between its GPU's lines in the whole log: each chunk's distinct
    (GPU, time) pairs are kept, and `complete` gives the samples their step once all are read."""

    csv = True

    def __init__(self, path: Path, config: Config) -> None:
        self.path, self.config = path, config
        self.times: list[pl.DataFrame] = []
        self.steps: pl.DataFrame | None = None

    def header(self, first_line: str) -> bool:
        """True when every chunk after the first needs the log's first line (its header)."""
        return detect(first_line) != "headerless"

    def chunk(self, data: bytes | pl.DataFrame, first: int) -> Parsed:
        assert isinstance(data, bytes)
        return _read(self.path, data, self.config, first=first, steps=CHUNK, times=self.times)

    def complete(self, rows: pl.DataFrame) -> pl.DataFrame:
        if self.steps is None:
            times = (
                pl.concat(self.times)
                if self.times
                else pl.DataFrame(schema={"gpu": pl.String, "ts": pl.Datetime("us")})
            )
            self.steps, self.times = _steps(times), []
        joined = rows.join(self.steps.rename({"gpu": "_gpu"}), on="_gpu", how="left", nulls_equal=True)
        step = pl.col("_step").fill_null(self.config.telemetry_step_seconds).cast(pl.Int32)
        return joined.with_columns(step.alias("step_seconds")).drop("_step", "_gpu")

    def notes(self) -> list[str]:
        return []


def _steps(times: pl.DataFrame) -> pl.DataFrame:
    """gpu, _step: the smallest positive distance between a GPU's lines."""
    gaps = pl.col("ts").unique().sort().diff().dt.total_seconds()
    return times.group_by("gpu").agg(gaps.filter(gaps > 0).min().round().cast(pl.Int32).alias("_step"))


def _read(
    path: Path,
    data: bytes,
    config: Config,
    *,
    first: int = 0,
    steps: Steps = WHOLE,
    times: list[pl.DataFrame] | None = None,
) -> Parsed:
    source = source_for(path, config)
    text = decode_text(data, path)
    lines = text.splitlines()
    kind = detect(lines[0] if lines else "")
    if kind == "headerless":
        if not source.columns:
            raise InputError(
                "an nvidia-smi log without a header line needs `columns` in its [[nvidia_smi]] entry", path=path, row=1
            )
        header = [c.strip().lower() for c in source.columns]
        body = text
    else:
        header = [_field(f) for f in lines[0].split(",")]
        body = "\n".join(lines[1:])
    try:
        frame = (
            pl.read_csv(
                io.StringIO(body),
                has_header=False,
                new_columns=header,
                infer_schema=False,
                null_values=[""],
                truncate_ragged_lines=False,
            )
            if body.strip()
            else pl.DataFrame(schema={h: pl.String for h in header})
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"not a readable nvidia-smi CSV log: {str(exc).splitlines()[0]}", path=path) from None
    frame = (
        frame.with_columns(pl.all().str.strip_chars())
        .with_row_index(ROW, offset=first + 1)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    if "timestamp" not in frame.columns:
        raise InputError(
            "expected a `timestamp` column (nvidia-smi --query-gpu=timestamp,...)", path=path, row=0, column="timestamp"
        )
    metrics = [c for c in frame.columns if c in METRICS]
    if not metrics:
        raise InputError(
            f"no known metric among the columns {header}; expected e.g. utilization.gpu, power.draw", path=path, row=0
        )
    stamp = pl.col("timestamp").str.replace_all("/", "-")
    local = pl.coalesce(
        stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False),
        stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
    )
    utc = (
        local.dt.replace_time_zone(source.timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )
    gpu = pl.col("index") if "index" in frame.columns else None
    for key in ("uuid", "pci.bus_id", "name"):
        if gpu is None and key in frame.columns and source.gpus:
            gpu = pl.col(key).replace_strict(source.gpus, default=None)
    if gpu is None:
        gpu = pl.lit(source.gpu) if source.gpu is not None else pl.lit(None, dtype=pl.String)
    base = frame.select(
        ROW,
        utc.alias("ts"),
        gpu.cast(pl.String).alias("gpu"),
        (pl.col("uuid") if "uuid" in frame.columns else pl.lit(None, dtype=pl.String)).alias("uuid"),
        (pl.col("name") if "name" in frame.columns else pl.lit(None, dtype=pl.String)).alias("gpu_model"),
        *[pl.col(m) for m in metrics],
    )
    long = (
        base.unpivot(
            index=[ROW, "ts", "gpu", "uuid", "gpu_model"], on=metrics, variable_name="_field", value_name="value"
        )
        .with_columns(
            pl.col("_field").replace_strict(METRICS).alias("metric"),
            # units inside values: "250.12 W", "35 %", "1234 MiB"
            pl.when(pl.col("value").str.contains(r"^-?[\d.]+\s*[A-Za-z%]*$"))
            .then(pl.col("value").str.extract(r"^(-?[\d.]+)", 1))
            .otherwise(pl.col("value"))
            .alias("value"),
            pl.lit(source.hostname).alias("hostname"),
            pl.lit(source.namespace).alias("namespace"),
            pl.lit(source.pod).alias("pod"),
            pl.lit(source.container).alias("container"),
            pl.lit(None, dtype=pl.Int32).alias("step_seconds"),
        )
        .drop("_field")
    )
    # a line with a bad time: quarantined once, not once per metric
    bad_time = frame.filter(local.is_null() | utc.is_null()).select(
        ROW,
        pl.lit("timestamp").alias("column"),
        pl.col("timestamp").alias("value"),
        pl.lit(f"expected a local time like 2026/01/05 10:00:00.000 that exists in {source.timezone}").alias("reason"),
    )
    long = long.filter(~pl.col(ROW).is_in(bad_time.get_column(ROW).implode()))
    # the step: the smallest positive distance between a GPU's lines (a chunk's: see Chunks)
    if steps.whole:
        long = (
            long.join(_steps(long), on="gpu", how="left", nulls_equal=True)
            .with_columns(pl.col("_step").alias("step_seconds"))
            .drop("_step")
        )
    elif times is not None:
        times.append(long.select("gpu", "ts").unique())
    rows, rejects, counts = finish(
        long.with_columns(pl.col("gpu").alias("_gpu")),
        default_step=config.telemetry_step_seconds,
        steps=steps,
        carry=("_gpu",),
    )
    rejects = (
        pl.concat([bad_time.cast(rejects.schema), rejects]).unique(ROW, keep="first", maintain_order=True).sort(ROW)
    )
    rows = rows.filter(~pl.col(ROW).is_in(rejects.get_column(ROW).implode()))
    notes = [f"host {source.hostname}, local time in {source.timezone}", *counts]
    return Parsed(format=FORMAT, raw=raw_records(frame), rows=rows, rejects=rejects, notes=notes)


def _detect(head: Head) -> str | None:
    return detect(head.first_line)


ADAPTER: Adapter[bytes] = Adapter(name="nvidia-smi CSV log", order=30, detect=_detect, read=read)
