"""The configuration's estate and cost rules: the registered models and their moves, attribution
of billing rows, workloads and phases, GPU pools, shared pools, owned servers and labor."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.columns import Bucket, Phase
from pipeline.config.base import ModelId, Strict, row_and_sql_regex, row_regex


class ModelMove(Strict):
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


class Model(Strict):
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


class AttributionRule(Strict):
    """Cost whose `field` matches `pattern` (a regular expression, full match) goes to `model`."""

    field: MatchField
    pattern: str
    model: ModelId

    _pattern = field_validator("pattern")(row_regex)


class Attribution(Strict):
    """How a billing row finds its model: tag keys first (in this order), then the rules."""

    tag_keys: list[str] = ["model"]
    rules: list[AttributionRule] = []


class WorkloadRule(Strict):
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

    _pattern = field_validator("namespace", "pod_pattern", "container_pattern")(row_and_sql_regex)

    @field_validator("labels")
    @classmethod
    def _label_patterns(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value.values():
            row_and_sql_regex(pattern)
        return value


class PhaseRule(Strict):
    """A billing row routed on its own (direct by tag or account) whose `field`, or whose tag
    `tag_key`, matches `pattern` (a regular expression, full match) is of `phase`. The first rule
    that matches wins; GPU time takes its workload rule's phase instead."""

    field: MatchField | None = None
    tag_key: str | None = None
    pattern: str
    phase: Phase

    _pattern = field_validator("pattern")(row_regex)

    @model_validator(mode="after")
    def _one_column(self) -> PhaseRule:
        if (self.field is None) == (self.tag_key is None):
            raise ValueError("give exactly one of field (a billing column) and tag_key")
        return self


class Phases(Strict):
    """The lifecycle phase of a ledger row no workload rule places, per source. Inference is the
    default: unit costs of serving read inference rows only, so other phases must be declared."""

    billing: Phase = Phase.INFERENCE
    assets: Phase = Phase.INFERENCE
    energy: Phase = Phase.INFERENCE
    labor: Phase = Phase.INFERENCE
    charges: Phase = Phase.INFERENCE
    milestones: Phase = Phase.SHARED


class GpuPool(Strict):
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

    _pattern = field_validator("node_pattern")(row_and_sql_regex)

    @field_validator("resource_id_pattern")
    @classmethod
    def _resource_id(cls, value: str | None) -> str | None:
        return None if value is None else row_and_sql_regex(value)


class SharedPool(Strict):
    """Platform cost (support, tax, shared networking) distributed by a declared policy."""

    name: str
    # Billing rows whose ChargeCategory, ServiceName or ServiceCategory fully match are the pool's.
    charge_category: str | None = None
    service_name: str | None = None
    service_category: str | None = None
    policy: Literal["proportional", "even", "fixed", "keep"] = "proportional"
    # proportional: each day's share follows that charge day's direct cost ("day"), or the
    # whole billing period's ("month": every new day of cost splits the period's rows again).
    window: Literal["day", "month"] = "day"
    weights: dict[str, int] = {}

    @field_validator("charge_category", "service_name", "service_category")
    @classmethod
    def _patterns(cls, value: str | None) -> str | None:
        return None if value is None else row_regex(value)

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


class TariffBand(Strict):
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


class NvidiaSmiSource(Strict):
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

    _pattern = field_validator("path_pattern")(row_regex)


class Owned(Strict):
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


class Labor(Strict):
    """Labor reaches models at standard rates per rate group (a role band, else its role family,
    else all staff), computed from at least k_anonymity people and fixed for their rate period."""

    k_anonymity: int = Field(3, ge=1)
    rate_period: Literal["year", "quarter"] = "year"
    # role band -> role family: a band with fewer than k people merges into its family first
    families: dict[str, str] = {}
    # ISO weekdays that are working days (1 = Monday).
    working_weekdays: list[int] = [1, 2, 3, 4, 5]
    holidays: list[str] = []
