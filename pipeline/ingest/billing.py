"""Billing exports: detect the format from the content and hand the file to its adapter.
Every adapter returns staging.billing rows in FOCUS 1.2 columns."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputError
from pipeline.ingest import focus
from pipeline.ingest.parse import Parsed, header_of

KNOWN_FORMATS = "FOCUS 1.0/1.1/1.2 CSV"


def read(path: Path, data: bytes) -> Parsed:
    header = header_of(data, path)
    if focus.detect(header) is not None:
        return focus.read(path)
    missing = sorted(set(focus.FOCUS_REQUIRED) - set(header))
    raise InputError(
        f"unrecognised billing format: known formats are {KNOWN_FORMATS}; closest is FOCUS, missing columns {missing}",
        path=path,
        row=0,
    )
