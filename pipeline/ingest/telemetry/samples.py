"""What every GPU telemetry adapter shares: the staging.gpu_samples columns, the dcgm-exporter label
spellings, DCGM's "not supported" sentinels, and the last typing step (`finish`).

An adapter turns its file into a frame of text columns (one row per sample, with the raw row it
came from), then `finish` types it, drops sentinels (counted, never averaged in), folds exact
duplicates (a scrape pasted twice) and quarantines conflicting ones. `finish` is two steps: what
each sample decides alone (`typed`: types, sentinels, missing labels, values that are not
numbers), and what the samples of one series and time decide together (`settle`: conflicts and
folding). A file parsed in chunks (pipeline.ingest.telemetry.stream) takes the first step per
chunk and the second over all of them; `Steps` says which an adapter's `read` is to take."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import polars as pl

from pipeline.ingest.parse import REJECT_SCHEMA, ROW, Tally
from pipeline.ingest.parsed import row_hash

# staging.gpu_samples, in order (DDL: sql/staging/gpu_samples.sql)
SAMPLE_SCHEMA: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "ts": pl.Datetime("us"),
    "step_seconds": pl.Int32(),
    "hostname": pl.String(),
    "gpu": pl.String(),
    "uuid": pl.String(),
    "gpu_model": pl.String(),
    "mig_profile": pl.String(),
    "mig_instance": pl.String(),
    "vgpu": pl.String(),
    "namespace": pl.String(),
    "pod": pl.String(),
    "container": pl.String(),
    "labels": pl.String(),
    "value": pl.Decimal(38, 9),
}
SAMPLE_COLUMNS: tuple[str, ...] = tuple(SAMPLE_SCHEMA)
REJECTS = pl.Schema(REJECT_SCHEMA)  # meta.quarantine's columns, as Polars' cast() takes them

# DCGM writes these for "field not supported / blank"; they are dropped and counted, never averaged in.
DCGM_SENTINELS = (
    "9223372036854775794",
    "9223372036854775792",
    "9223372036854775793",
    "9223372036854775795",
    "9223372036854775807",
    "2147483647",
    "2147483632",
    "2147483633",
    "2147483634",
    "2147483635",
    "4294967295",
    "NaN",
    "nan",
    "+Inf",
    "-Inf",
    "[N/A]",
    "N/A",
    "[Not Supported]",
    "Not Supported",
)
# The exporter's own pod, as Kubernetes service discovery labels every scraped series with it.
EXPORTER_POD = re.compile(r"(?:nvidia-)?dcgm-exporter.*")
# Label spellings, first present wins.
LABELS: dict[str, tuple[str, ...]] = {
    "hostname": ("Hostname", "hostname", "node", "kubernetes_node", "instance"),
    "gpu": ("gpu", "minor_number"),
    "uuid": ("UUID", "uuid"),
    "gpu_model": ("modelName", "model_name"),
    "mig_profile": ("GPU_I_PROFILE",),
    "mig_instance": ("GPU_I_ID",),
    "vgpu": ("vgpu",),
}
WORKLOAD = ("namespace", "pod", "container")
# Labels that say nothing about the workload (exporter, scrape target, device details).
_KNOWN = {
    "__name__",
    "device",
    "pci_bus_id",
    "DCGM_FI_DRIVER_VERSION",
    "DCGM_FI_PROCESS_NAME",
    "pod_uid",
    "instance",
    "job",
    "endpoint",
    "service",
    "err_code",
    "err_msg",
    "GPU_I_PROFILE",
    "GPU_I_ID",
    "vgpu",
    "Hostname",
    "hostname",
    "node",
    "kubernetes_node",
    "gpu",
    "minor_number",
    "UUID",
    "uuid",
    "modelName",
    "model_name",
    "prometheus",
    "prometheus_replica",
    *WORKLOAD,
    *(f"exported_{w}" for w in WORKLOAD),
    "exported_pod_uid",
    "exported_job",
    "exported_instance",
}


def _first(labels: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = labels.get(name)
        if value not in (None, ""):
            return value
    return None


def canonical_labels(labels: dict[str, str]) -> dict[str, str | None]:
    """dcgm-exporter labels -> canonical columns (without metric, ts, value).

    The workload is `exported_pod`/`exported_namespace`/`exported_container` when Prometheus
    relabelled (the plain labels then name the exporter's own pod); otherwise the plain labels,
    unless they name the dcgm-exporter pod itself (a GPU no workload holds)."""
    out = {column: _first(labels, names) for column, names in LABELS.items()}
    if any(labels.get(f"exported_{w}") for w in WORKLOAD):
        workload = {w: labels.get(f"exported_{w}") or None for w in WORKLOAD}
    else:
        workload = {w: labels.get(w) or None for w in WORKLOAD}
        if EXPORTER_POD.fullmatch(workload["pod"] or "") or EXPORTER_POD.fullmatch(workload["container"] or ""):
            workload = dict.fromkeys(WORKLOAD)
    out |= workload
    extra = {k: v for k, v in labels.items() if k not in _KNOWN and v != ""}
    out["labels"] = json.dumps(extra, sort_keys=True, separators=(",", ":")) if extra and workload["pod"] else None
    return out


SERIES = tuple(c for c in SAMPLE_COLUMNS if c not in ("value", "step_seconds"))  # one series at one time
ORDER = "_order"  # a sample's place in its chunk's frame (a file parsed in chunks: see `Steps`)
SENTINELS_DROPPED = "{count} sentinel samples dropped"
FOLDED = "{count} duplicate samples folded"
CONFLICT = "another sample of the same series and time has a different value"


@dataclass(frozen=True)
class Steps:
    """Which of `finish`'s steps an adapter's read takes: both (`whole`: a file parsed whole), or
    only `typed` (a chunk of a file: the rows it returns are the candidates, with ORDER, and the
    series steps run over all the chunks at the end)."""

    whole: bool = True


WHOLE = Steps()
CHUNK = Steps(whole=False)


def finish(
    text: pl.DataFrame, *, default_step: int, steps: Steps = WHOLE, carry: tuple[str, ...] = ()
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Type an adapter's text frame -> (rows, rejects, notes): `typed`, then (a whole file) `settle`.
    A chunk's rows keep ORDER and the `carry` columns of `text` (what the adapter completes once
    every chunk is read)."""
    good, rejects, dropped = typed(text, default_step=default_step, carry=carry if not steps.whole else ())
    notes: list[str] = [Tally(SENTINELS_DROPPED, dropped)] if dropped else []
    if not steps.whole:
        return good, rejects, notes
    rows, rejects, folded = settle(good, rejects)
    return rows, rejects, notes + ([Tally(FOLDED, folded)] if folded else [])


def typed(
    text: pl.DataFrame, *, default_step: int, carry: tuple[str, ...] = ()
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """What each sample decides alone -> (good samples, rejects, sentinels dropped).

    `text` has ROW, metric, ts (Datetime us, UTC naive), step_seconds (Int32 or null), the label
    columns and `value` as text. A sample without host, GPU or metric, or with a value that is
    not a number, is quarantined with its row; sentinels are dropped and counted. The good
    samples are typed (value Decimal(38, 9), gpu filled from uuid) and numbered in ORDER."""
    for column, dtype in SAMPLE_SCHEMA.items():
        if column not in text.columns:
            text = text.with_columns(pl.lit(None, dtype=dtype if column != "value" else pl.String).alias(column))
    text = text.with_columns(
        pl.col("value").cast(pl.String).str.strip_chars(), pl.col("step_seconds").cast(pl.Int32).fill_null(default_step)
    )
    sentinel = pl.col("value").is_in(DCGM_SENTINELS)
    dropped = int(text.select(sentinel.sum()).item() or 0)
    text = text.filter(~sentinel)
    cast = text.with_columns(pl.col("value").cast(pl.Decimal(38, 9), strict=False).alias("_value"))
    checks = [
        (pl.col("metric").is_null(), "metric", "metric", "expected a metric name"),
        (pl.col("ts").is_null(), "ts", "ts", "expected a sample time"),
        (
            pl.col("hostname").is_null(),
            "Hostname",
            "hostname",
            "expected a host name (label Hostname or hostname, or the config)",
        ),
        (pl.col("gpu").is_null() & pl.col("uuid").is_null(), "gpu", "gpu", "expected label 'gpu' or 'UUID'"),
        (pl.col("_value").is_null(), "value", "value", "expected a numeric sample value"),
    ]
    reason = pl.lit(None, dtype=pl.Struct({"column": pl.String, "value": pl.String, "reason": pl.String}))
    for mask, name, column, why in reversed(checks):
        reason = (
            pl.when(mask)
            .then(
                pl.struct(
                    pl.lit(name).alias("column"),
                    pl.col(column).cast(pl.String).alias("value"),
                    pl.lit(why).alias("reason"),
                )
            )
            .otherwise(reason)
        )
    cast = cast.with_columns(reason.alias("_failure"))
    rejects = cast.filter(pl.col("_failure").is_not_null()).select(ROW, pl.col("_failure").struct.unnest())
    good = cast.filter(pl.col("_failure").is_null()).with_columns(pl.col("gpu").fill_null(pl.col("uuid")))
    good = good.drop("value", "_failure").rename({"_value": "value"})
    good = good.select(ROW, *[pl.col(c).cast(t) for c, t in SAMPLE_SCHEMA.items()], *carry).with_row_index(ORDER)
    return good, rejects.cast(REJECTS), dropped


def conflicts(samples: pl.DataFrame) -> pl.DataFrame:
    """The rejects of samples that disagree with another sample of their series and time."""
    return samples.select(
        ROW,
        pl.lit("value").alias("column"),
        pl.col("value").cast(pl.String).alias("value"),
        pl.lit(CONFLICT).alias("reason"),
    ).cast(REJECTS)


def settle(good: pl.DataFrame, rejects: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """What the samples of one series and time decide together -> (rows, rejects, samples folded):
    an identical copy is folded (the first kept), a different value quarantines every sample of
    the series and time, and a raw row with any rejected sample is quarantined whole, so that
    rows in = loaded + quarantined."""
    # usually no series repeats a time (one test over the keys' hash; a repeated hash takes the
    # exact path, which is right for any rows): then nothing is folded or in conflict
    repeated = bool(good.select(row_hash([pl.col(c) for c in SERIES]).is_duplicated().any()).item())
    if repeated:
        good = good.with_columns(pl.col("value").n_unique().over(SERIES).alias("_values"))
        conflict = good.filter(pl.col("_values") > 1)
        if conflict.height:
            rejects = pl.concat([rejects, conflicts(conflict)])
        good = good.filter(pl.col("_values") == 1)
    good = good.filter(~pl.col(ROW).is_in(rejects.get_column(ROW).unique().implode()))
    before = good.height
    if repeated:
        good = good.unique(SERIES, keep="first", maintain_order=True)
    rows = good.select(ROW, *SAMPLE_COLUMNS)
    return rows, rejects.cast(REJECTS), before - good.height


def epoch_seconds_to_ts(expr: pl.Expr) -> pl.Expr:
    """Epoch seconds (possibly fractional, as float or text) -> naive UTC microseconds, exact to the ms."""
    return pl.from_epoch((expr.cast(pl.Float64) * 1000).round().cast(pl.Int64), time_unit="ms").cast(pl.Datetime("us"))
