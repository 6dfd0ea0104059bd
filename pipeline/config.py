"""The workspace configuration (`costledger.toml`): models, attribution and allocation rules.

Every table is a pydantic model with `extra="forbid"`, so a misspelt key is an error that names it.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.columns import BUCKETS, CATEGORIES
from pipeline.errors import ConfigError

CONFIG_FILE = "costledger.toml"

ModelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None
    return value


class Model(_Strict):
    """A registered model."""

    id: ModelId
    name: str
    business_line: str = ""
    owner: str = ""


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

    _pattern = field_validator("pattern")(_check_regex)


class Attribution(_Strict):
    """How a billing row finds its model: tag keys first (in this order), then the rules."""

    tag_keys: list[str] = ["model"]
    rules: list[AttributionRule] = []


class WorkloadRule(_Strict):
    """A GPU workload (Kubernetes namespace, and optionally pod) that belongs to a model."""

    namespace: str
    pod_pattern: str = ".*"
    model: ModelId

    _pattern = field_validator("pod_pattern")(_check_regex)


class GpuPool(_Strict):
    """A shared GPU node pool: billing rows of its nodes are split by GPU-time held."""

    name: str
    # Billing rows whose ResourceName (the node host name) fully matches this are the pool's nodes.
    node_pattern: str
    gpus_per_node: int = Field(gt=0, le=64)
    policy: Literal["gpu_time"] = "gpu_time"

    _pattern = field_validator("node_pattern")(_check_regex)


class SharedPool(_Strict):
    """Platform cost (support, tax, shared networking) distributed by a declared policy."""

    name: str
    # Billing rows whose ChargeCategory, ServiceName or ServiceCategory fully match are the pool's.
    charge_category: str | None = None
    service_name: str | None = None
    service_category: str | None = None
    policy: Literal["proportional", "even", "fixed", "keep"] = "proportional"
    weights: dict[str, int] = {}

    @model_validator(mode="after")
    def _check(self) -> SharedPool:
        for pattern in (self.charge_category, self.service_name, self.service_category):
            if pattern is not None:
                _check_regex(pattern)
        if self.charge_category is self.service_name is self.service_category is None:
            raise ValueError(f"shared pool {self.name!r} matches nothing: give charge_category, service_name or service_category")
        if self.policy == "fixed" and not self.weights:
            raise ValueError(f"shared pool {self.name!r}: policy 'fixed' needs weights")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError(f"shared pool {self.name!r}: weights must not be negative")
        return self


class Owned(_Strict):
    """Owned GPU servers: energy pricing."""

    pue: Decimal = Decimal("1.4")
    tariff_per_kwh: Decimal = Decimal("0.12")
    tariff_currency: str = "USD"


class Labor(_Strict):
    k_anonymity: int = Field(3, ge=1)
    # ISO weekdays that are working days (1 = Monday).
    working_weekdays: list[int] = [1, 2, 3, 4, 5]
    holidays: list[str] = []


class Config(_Strict):
    reporting_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    models: list[Model] = []
    attribution: Attribution = Attribution()
    workloads: list[WorkloadRule] = []
    gpu_pools: list[GpuPool] = []
    shared_pools: list[SharedPool] = []
    owned: Owned = Owned()
    labor: Labor = Labor()
    # Default telemetry step when a series has a single sample.
    telemetry_step_seconds: int = Field(60, gt=0)

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

    @property
    def model_ids(self) -> list[str]:
        return [m.id for m in self.models]


def load_config(path: Path) -> Config:
    """Read and validate a config file; errors name the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no config file; `costledger init` writes one") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


__all__ = ["CATEGORIES", "CONFIG_FILE", "Config", "load_config"]
