"""The workspace configuration (`costledger.toml`): the `Config` model of the whole file, and
reading and checking the file. Its tables are in `estate` (models and the cost rules) and
`operations` (ingest, report and alert settings), on the strict models of `base`; they are
imported from here.
"""

from __future__ import annotations

import tomllib
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import unquote

from pydantic import Field, ValidationError, model_validator

from pipeline import patterns
from pipeline.columns import BUCKETS, CATEGORIES
from pipeline.config.base import ModelId, Strict
from pipeline.config.estate import (
    Attribution,
    AttributionRule,
    GpuPool,
    Labor,
    MatchField,
    Model,
    ModelMove,
    NvidiaSmiSource,
    Owned,
    PhaseRule,
    Phases,
    SharedPool,
    TariffBand,
    WorkloadRule,
)
from pipeline.config.operations import (
    Anomalies,
    BadRows,
    DateOrder,
    Dates,
    Ingest,
    Notifier,
    Quarantine,
    RemoteSource,
    Report,
    RowPolicy,
)
from pipeline.errors import ConfigError

CONFIG_FILE = "costledger.toml"


class Config(Strict):
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


def load_config(path: Path, *, accepted: Path | None = None) -> Config:
    """Read and validate a config file; errors name the file and the key. `accepted`: the file
    that remembers the regular expressions the engines accepted (patterns.remembered)."""
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
        with patterns.remembered(accepted) if accepted is not None else nullcontext():
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


__all__ = [
    "Anomalies",
    "Attribution",
    "AttributionRule",
    "BadRows",
    "CATEGORIES",
    "CONFIG_FILE",
    "Config",
    "DateOrder",
    "Dates",
    "GpuPool",
    "Ingest",
    "Labor",
    "MatchField",
    "Model",
    "ModelId",
    "ModelMove",
    "Notifier",
    "NvidiaSmiSource",
    "Owned",
    "PhaseRule",
    "Phases",
    "Quarantine",
    "RemoteSource",
    "Report",
    "RowPolicy",
    "SharedPool",
    "TariffBand",
    "WorkloadRule",
    "check_paths",
    "load_config",
]
