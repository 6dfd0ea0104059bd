"""The workspace configuration (`costledger.toml`): models, attribution and allocation rules.

Every table is a pydantic model with `extra="forbid"`, so a misspelt key is an error that names it.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline import patterns
from pipeline.columns import BUCKETS, CATEGORIES, SOURCES, Bucket, Phase
from pipeline.errors import ConfigError

CONFIG_FILE = "costledger.toml"

ModelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _row_regex(value: str) -> str:
    """A pattern the ledger build runs on billing or telemetry rows (DuckDB) and Polars may run
    on them too (tests, telemetry readers): both must take it."""
    return patterns.check(value, patterns.POLARS, patterns.DUCKDB)


def _row_and_sql_regex(value: str) -> str:
    """A pattern Polars runs on rows and DuckDB runs again in the marts and recommendations."""
    return patterns.check(value, patterns.POLARS, patterns.DUCKDB)


class ModelMove(_Strict):
    """From `since` (a day, inclusive) the model belongs to the business line, team or owner given
    here; a field left out keeps its earlier value. Cost before `since` keeps the earlier ones."""

    since: date
    business_line: str | None = None
    team: str | None = None
    owner: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelMove:
        if self.business_line is self.team is self.owner is None:
            raise ValueError(f"move since {self.since}: give business_line, team or owner")
        return self


class Model(_Strict):
    """A registered model: who it belongs to, and since when (`moves`, in date order)."""

    id: ModelId
    name: str
    business_line: str = ""
    team: str = ""
    owner: str = ""
    moves: list[ModelMove] = []

    @field_validator("moves")
    @classmethod
    def _in_order(cls, value: list[ModelMove]) -> list[ModelMove]:
        days = [m.since for m in value]
        if days != sorted(set(days)):
            raise ValueError(f"moves must be in date order, one per day: got {[d.isoformat() for d in days]}")
        return value


class MatchField(StrEnum):
    """Billing columns an attribution rule may test (besides tags)."""

    BILLING_ACCOUNT_ID = "BillingAccountId"
    SUB_ACCOUNT_ID = "SubAccountId"
    SUB_ACCOUNT_NAME = "SubAccountName"
    RESOURCE_ID = "ResourceId"
    RESOURCE_NAME = "ResourceName"
    SERVICE_NAME = "ServiceName"


class AttributionRule(_Strict):
    """Cost whose `field` matches `pattern` (a regular expression, full match) goes to `model`."""

    field: MatchField
    pattern: str
    model: ModelId

    _pattern = field_validator("pattern")(_row_regex)


class Attribution(_Strict):
    """How a billing row finds its model: tag keys first (in this order), then the rules."""

    tag_keys: list[str] = ["model"]
    rules: list[AttributionRule] = []


class WorkloadRule(_Strict):
    """A GPU workload (Kubernetes namespace, and optionally pod, container and pod labels: regular
    expressions, full match) that belongs to a model. The first rule that matches wins."""

    namespace: str
    pod_pattern: str = ".*"
    container_pattern: str = ".*"
    # pod labels exported with the metric (dcgm-exporter --kubernetes-enable-pod-labels): all must match
    labels: dict[str, str] = {}
    model: ModelId
    # lifecycle phase of the workload's GPU time (training, fine_tuning, inference, ...); none:
    # the phase of its source ([phases])
    phase: Phase | None = None

    _pattern = field_validator("namespace", "pod_pattern", "container_pattern")(_row_and_sql_regex)

    @field_validator("labels")
    @classmethod
    def _label_patterns(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value.values():
            _row_and_sql_regex(pattern)
        return value


class PhaseRule(_Strict):
    """A billing row routed on its own (direct by tag or account) whose `field`, or whose tag
    `tag_key`, matches `pattern` (a regular expression, full match) is of `phase`. The first rule
    that matches wins; GPU time takes its workload rule's phase instead."""

    field: MatchField | None = None
    tag_key: str | None = None
    pattern: str
    phase: Phase

    _pattern = field_validator("pattern")(_row_regex)

    @model_validator(mode="after")
    def _one_column(self) -> PhaseRule:
        if (self.field is None) == (self.tag_key is None):
            raise ValueError("give exactly one of field (a billing column) and tag_key")
        return self


class Phases(_Strict):
    """The lifecycle phase of a ledger row no workload rule places, per source. Inference is the
    default: unit costs of serving read inference rows only, so other phases must be declared."""

    billing: Phase = Phase.INFERENCE
    assets: Phase = Phase.INFERENCE
    energy: Phase = Phase.INFERENCE
    labor: Phase = Phase.INFERENCE
    charges: Phase = Phase.INFERENCE
    milestones: Phase = Phase.SHARED


class GpuPool(_Strict):
    """A shared GPU node pool: billing rows of its nodes are split by GPU-time held."""

    name: str
    # Billing rows whose ResourceName (the node host name) fully matches this are the pool's nodes.
    node_pattern: str
    # ...and rows whose ResourceId (instance id or ARN) fully matches this; the node's telemetry host
    # is its ResourceName, else the instance id (the ResourceId's last `/` part), also as the first
    # label of a host name (`i-0abc` matches `i-0abc.ec2.internal`)
    resource_id_pattern: str | None = None
    gpus_per_node: int = Field(gt=0, le=64)
    # gpu_time: GPU-seconds held (MIG slices by profile fraction, time-sliced pods by replica share);
    # utilisation: held GPU-seconds x GR_ENGINE_ACTIVE (else GPU_UTIL), the unused rest is idle.
    policy: Literal["gpu_time", "utilisation"] = "gpu_time"
    # idle GPU time: kept as __idle__, or redistributed to the models that used the node that hour
    idle: Literal["keep", "redistribute"] = "keep"
    # MIG: compute slices of a whole GPU (7 on A100/H100, 4 on A30); profile `3g.40gb` holds 3 of them
    mig_slices: int = Field(7, gt=0, le=8)
    # time-slicing: replicas each GPU is advertised as (each pod holds 1/replicas); unset: the pods
    # present share the GPU equally
    time_slicing_replicas: int | None = Field(None, gt=0, le=64)

    _pattern = field_validator("node_pattern")(_row_and_sql_regex)

    @field_validator("resource_id_pattern")
    @classmethod
    def _resource_id(cls, value: str | None) -> str | None:
        return None if value is None else _row_and_sql_regex(value)


class SharedPool(_Strict):
    """Platform cost (support, tax, shared networking) distributed by a declared policy."""

    name: str
    # Billing rows whose ChargeCategory, ServiceName or ServiceCategory fully match are the pool's.
    charge_category: str | None = None
    service_name: str | None = None
    service_category: str | None = None
    policy: Literal["proportional", "even", "fixed", "keep"] = "proportional"
    weights: dict[str, int] = {}

    @field_validator("charge_category", "service_name", "service_category")
    @classmethod
    def _patterns(cls, value: str | None) -> str | None:
        return None if value is None else _row_regex(value)

    @model_validator(mode="after")
    def _check(self) -> SharedPool:
        if self.charge_category is self.service_name is self.service_category is None:
            raise ValueError(
                f"shared pool {self.name!r} matches nothing: give charge_category, service_name or service_category"
            )
        if self.policy == "fixed" and not self.weights:
            raise ValueError(f"shared pool {self.name!r}: policy 'fixed' needs weights")
        if self.name in self.weights or Bucket.SHARED.value in self.weights:
            raise ValueError(f"shared pool {self.name!r} refers to itself: its weights may only name registered models")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError(f"shared pool {self.name!r}: weights must not be negative")
        return self


class TariffBand(_Strict):
    """Energy price for the hours [start_hour, end_hour) of the day (UTC), on the given ISO weekdays."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)
    weekdays: list[int] = [1, 2, 3, 4, 5, 6, 7]
    tariff_per_kwh: Decimal

    @model_validator(mode="after")
    def _check(self) -> TariffBand:
        if self.end_hour <= self.start_hour:
            raise ValueError(f"tariff band {self.start_hour}-{self.end_hour}: end_hour must be after start_hour")
        return self


class NvidiaSmiSource(_Strict):
    """nvidia-smi CSV logs whose path matches `path_pattern` (regular expression, search, matched on
    the linear-time Rust engine): the host they were written on, their local time zone, and what the
    log itself does not say."""

    path_pattern: str = ".*"
    hostname: str
    timezone: str = "UTC"
    # the --query-gpu field list, for logs written with `noheader`
    columns: list[str] = []
    # GPU index by pci.bus_id, uuid or name, for logs without an `index` column
    gpus: dict[str, str] = {}
    gpu: str | None = None  # the GPU of a single-GPU log without index or map
    # workload of a dedicated server (nvidia-smi knows no pods)
    namespace: str | None = None
    pod: str | None = None
    container: str | None = None

    _pattern = field_validator("path_pattern")(_row_regex)


class Owned(_Strict):
    """Owned GPU servers: energy pricing."""

    pue: Decimal = Decimal("1.4")
    tariff_per_kwh: Decimal = Decimal("0.12")
    tariff_currency: str = "USD"
    # time-of-use tariff: bands of local hours; an hour in no band pays tariff_per_kwh
    tariff_bands: list[TariffBand] = []
    # how owned servers are split: the same policies as a cloud GPU pool
    policy: Literal["gpu_time", "utilisation"] = "gpu_time"
    idle: Literal["keep", "redistribute"] = "keep"
    mig_slices: int = Field(7, gt=0, le=8)
    time_slicing_replicas: int | None = Field(None, gt=0, le=64)


class Labor(_Strict):
    """Labor reaches models at standard rates per rate group (a role band, else its role family,
    else all staff), computed from at least k_anonymity people and fixed for their rate period."""

    k_anonymity: int = Field(3, ge=1)
    rate_period: Literal["year", "quarter"] = "year"
    # role band -> role family: a band with fewer than k people merges into its family first
    families: dict[str, str] = {}
    # ISO weekdays that are working days (1 = Monday).
    working_weekdays: list[int] = [1, 2, 3, 4, 5]
    holidays: list[str] = []


RowPolicy = Literal["quarantine", "reject_file"]


class BadRows(_Strict):
    """Per source, what a file with bad rows does: `quarantine` loads the good rows and keeps the
    bad ones in meta.quarantine; `reject_file` loads nothing of it (meta.loads says why)."""

    billing: RowPolicy = "quarantine"
    telemetry: RowPolicy = "quarantine"
    labor: Literal["reject_file"] = "reject_file"  # a partial HR file would misstate everyone's cost
    assets: RowPolicy = "quarantine"
    charges: RowPolicy = "quarantine"
    usage: RowPolicy = "quarantine"
    optimizations: RowPolicy = "quarantine"
    milestones: RowPolicy = "quarantine"
    fx: RowPolicy = "quarantine"
    budgets: RowPolicy = "quarantine"


DateOrder = Literal["auto", "mdy", "dmy"]


class Dates(_Strict):
    """Per source, how dates written with slashes are read: `auto` decides from the file (a
    first part above 12 is a day: day/month/year; a second part above 12: month/day/year) and
    refuses a file whose dates read both ways; `mdy` (04/01/2026 is 1 April) or `dmy` (4 January)
    say it. ISO dates (2026-04-01) and dotted dates (01.04.2026, day first) read the same always."""

    billing: DateOrder = "auto"
    assets: DateOrder = "auto"
    charges: DateOrder = "auto"
    usage: DateOrder = "auto"
    optimizations: DateOrder = "auto"
    milestones: DateOrder = "auto"
    fx: DateOrder = "auto"


class Quarantine(_Strict):
    """When quarantined rows fail a run: a file with more than `max_share` of its rows quarantined
    (or a rejected file) makes `costledger run` exit 2 and the nightly data-quality task fail,
    after the good files are loaded and published."""

    max_share: Decimal = Field(Decimal("0.5"), ge=0, le=1)


class Ingest(_Strict):
    """Limits every delivered file must keep, checked in one streaming pass before any parser
    reads it (a file beyond one is rejected, naming the limit), and how long a file must rest
    before it is read. Sizes are in MiB (1 MiB = 1,048,576 bytes) of the content, after gzip."""

    # the largest content of one file (a gzip file: its size once decompressed)
    max_file_mib: int = Field(1024, gt=0)
    # a gzip file may expand at most this many times its size (checked once it passes 64 MiB)
    max_gzip_ratio: int = Field(100, gt=1)
    # the longest line (a JSON line, a line of a CSV file; a Prometheus answer is one document, exempt)
    max_line_mib: int = Field(16, gt=0)
    # the longest CSV value (quoted values may span lines)
    max_field_mib: int = Field(4, gt=0)
    # the largest content of a file of the other tables and HR files (neither billing nor
    # telemetry): they are parsed whole
    max_table_mib: int = Field(128, gt=0)
    # the largest JSON document (a Prometheus API answer): it is parsed whole
    max_document_mib: int = Field(32, gt=0)
    # a billing or telemetry file whose content is larger than this is parsed in chunks of about
    # this size, each staged to disk, so no such file is held whole in memory
    # (pipeline.ingest.chunked, pipeline.ingest.telemetry.stream)
    chunk_mib: float = Field(64, gt=0)
    # a file modified less than this many seconds ago may still be being written: it waits for a
    # later run (COSTLEDGER_SETTLE_SECONDS and `costledger run --settle-seconds` override it)
    settle_seconds: float = Field(60, ge=0)


class RemoteSource(_Strict):
    """An object-store folder pulled into inbox/<source>/<name>/ before each ingest (`costledger
    pull`, the nightly DAG). Credentials come from the Airflow connection `conn_id`, never from here."""

    source: str
    uri: str = Field(pattern=r"^(s3|s3a|gs|gcs|abfs|abfss|adl|file)://.+")
    conn_id: str | None = None
    # Folder under inbox/<source>/; defaults to one made from the URI's bucket and prefix.
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r}: expected one of {list(SOURCES)}")
        return value

    @property
    def folder(self) -> str:
        if self.name:
            return self.name
        bucket_and_prefix = self.uri.split("://", 1)[1]
        return re.sub(r"[^A-Za-z0-9._-]+", "-", bucket_and_prefix).strip("-._") or "remote"


class Report(_Strict):
    """Monthly report options: impact windows and bootstrap, recommendation thresholds."""

    impact_window_days: int = Field(14, ge=3, le=90)
    bootstrap_draws: int = Field(2000, ge=100, le=100_000)
    bootstrap_seed: int = 20260215
    idle_threshold: Decimal = Field(Decimal("0.20"), ge=0, le=1)
    low_utilisation_percent: float = Field(40.0, ge=0, le=100)
    # An assumption, shown in the report: the discount a commitment would have given.
    commitment_discount: Decimal = Field(Decimal("0.30"), ge=0, le=1)
    # The language of index.html and summary.md (both languages are written beside them).
    language: Literal["en", "zh"] = "en"


class Notifier(_Strict):
    """An Airflow notifier (a subclass of airflow.sdk.BaseNotifier, by import path) and its
    keyword arguments; its templated fields see `anomalies` (a list of rows) and `anomaly_text`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_path: str = Field(alias="class", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
    kwargs: dict[str, object] = {}


class Anomalies(_Strict):
    """Daily anomalies per model and category (marts.anomalies) and the alert the nightly run sends.

    Band: the median of the same weekday over the last `weeks` weeks, +- `band_mads` x 1.4826 x
    their median absolute deviation, at least +- `min_band_share` of the median and
    +- `min_band_amount`. Alert: an anomaly above its band by at least `alert_excess`
    (reporting currency) on one of the `alert_days` days up to the run's day, not alerted before."""

    weeks: int = Field(4, ge=2, le=26)
    band_mads: Decimal = Field(Decimal("3"), gt=0, le=100)
    min_band_share: Decimal = Field(Decimal("0.25"), ge=0, le=100)
    min_band_amount: Decimal = Field(Decimal("1"), ge=0)
    # labor and time are monthly figures spread over days (a change of plan, not of spend)
    categories: list[Literal["hardware", "software", "data", "labor", "operational", "time"]] = [
        "hardware",
        "software",
        "data",
        "operational",
    ]
    alert_excess: Decimal = Field(Decimal("100"), ge=0)
    alert_days: int = Field(7, ge=1, le=366)
    on_alert: Literal["notify", "fail"] = "notify"
    # none: the anomalies are logged (pipeline.marts.notifiers.LogNotifier)
    notifiers: list[Notifier] = []


class Config(_Strict):
    reporting_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    models: list[Model] = []
    attribution: Attribution = Attribution()
    workloads: list[WorkloadRule] = []
    phases: Phases = Phases()
    phase_rules: list[PhaseRule] = []
    gpu_pools: list[GpuPool] = []
    shared_pools: list[SharedPool] = []
    owned: Owned = Owned()
    labor: Labor = Labor()
    bad_rows: BadRows = BadRows()
    dates: Dates = Dates()
    quarantine: Quarantine = Quarantine()
    ingest: Ingest = Ingest()
    report: Report = Report()
    anomalies: Anomalies = Anomalies()
    # Default telemetry step when a series has a single sample.
    telemetry_step_seconds: int = Field(60, gt=0)
    # A sample holds its GPU until the next one, up to this many steps; a longer silence is a
    # telemetry gap (no data: __unallocated__ telemetry_gap), never guessed.
    telemetry_gap_steps: int = Field(2, ge=1, le=60)
    nvidia_smi: list[NvidiaSmiSource] = []
    remote_sources: list[RemoteSource] = []
    # Folders outside the workspace that a file:// remote source may read (absolute, or relative
    # to the workspace). Any other path outside the workspace is refused (see check_paths).
    allowed_roots: list[str] = []

    @model_validator(mode="after")
    def _check_models(self) -> Config:
        ids = [m.id for m in self.models]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"model ids declared twice: {dupes}")
        if any(i in BUCKETS for i in ids):
            raise ValueError(f"model ids may not be a bucket name {BUCKETS}")
        known = set(ids)
        named = [r.model for r in self.attribution.rules] + [w.model for w in self.workloads]
        for pool in self.shared_pools:
            named += list(pool.weights)
        unknown = sorted({m for m in named if m not in known})
        if unknown:
            raise ValueError(f"rules name unregistered models {unknown}; declare them under [[models]]")
        return self

    @model_validator(mode="after")
    def _check_remote_sources(self) -> Config:
        folders = [(r.source, r.folder) for r in self.remote_sources]
        dupes = sorted({f"{s}/{f}" for s, f in folders if folders.count((s, f)) > 1})
        if dupes:
            raise ValueError(f"remote_sources pull into the same inbox folder {dupes}: give each a distinct name")
        return self

    @property
    def model_ids(self) -> list[str]:
        return [m.id for m in self.models]


def load_config(path: Path) -> Config:
    """Read and validate a config file; errors name the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no config file; `costledger init` writes one") from None
    except UnicodeDecodeError as exc:
        where = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        raise ConfigError(f"{path}: not UTF-8 text ({where}): save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    check_paths(config, path)
    return config


def check_paths(config: Config, path: Path) -> None:
    """Every filesystem path the config names (file:// remote sources) must resolve, links
    followed, inside the workspace or one of `allowed_roots`: a config cannot make the pipeline
    read or write elsewhere. A relative file:// path is relative to the working directory, as the
    pull reads it."""
    workspace = path.parent.resolve()
    roots = [workspace, *((workspace / root).resolve() for root in config.allowed_roots)]
    for number, entry in enumerate(config.remote_sources):
        if not entry.uri.startswith("file://"):
            continue
        target = Path(unquote(entry.uri.removeprefix("file://"))).resolve()
        if not any(target.is_relative_to(root) for root in roots):
            raise ConfigError(
                f"{path}: remote_sources.{number}.uri: {entry.uri!r} resolves to {target}, outside the "
                f"workspace {workspace} and allowed_roots {[str(r) for r in roots[1:]]}; "
                "add the folder to allowed_roots to read it"
            )


__all__ = ["CATEGORIES", "CONFIG_FILE", "Config", "load_config"]
