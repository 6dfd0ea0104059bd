"""GPU telemetry: detect the format from the content and hand the file to its adapter.
Every adapter returns staging.gpu_samples rows."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.ingest import prometheus
from pipeline.ingest.parse import Parsed


def read(path: Path, data: bytes, config: Config) -> Parsed:
    return prometheus.read(path, default_step=config.telemetry_step_seconds)
