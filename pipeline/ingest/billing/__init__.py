"""Billing exports: detect the format from the content and hand the file to its adapter.
Every adapter returns staging.billing rows in FOCUS 1.2 columns.

Each format is one module of this package defining `ADAPTER` (see pipeline.ingest.adapter); the
registry finds them all, so a new format is one new module. Detection never looks at the file
name: Parquet by its magic bytes, JSON lines by a first `{`, anything else as CSV; then the
columns (or keys) decide the format, the adapters asked in their `order`. A file no adapter knows
is an error naming the known formats and the one it came closest to (columns found and missing)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from pipeline.config import Config, Dates
from pipeline.errors import InputError
from pipeline.ingest import adapter
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import PARQUET_MAGIC, ROW, Parsed, read_csv_text, read_json_lines_text, read_parquet_text


def adapters() -> tuple[Adapter[pl.DataFrame], ...]:
    """Every billing format, in the order detection asks them."""
    return adapter.discover(sys.modules[__name__])


def text_frame(path: Path, data: bytes) -> pl.DataFrame:
    """The file as an all-text frame with row_number, whatever its container."""
    if data[:4] == PARQUET_MAGIC:
        return read_parquet_text(path, data=data)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return read_json_lines_text(path, data=data)
    return read_csv_text(path, data=data)


def read(path: Path, data: bytes, *, dates: str = "auto", config: Config | None = None) -> Parsed:
    """`dates`: the billing source's slash-date order setting (config `[dates]`), when no `config`
    is given."""
    return read_frame(path, text_frame(path, data), config or _with_dates(dates))


def read_frame(path: Path, frame: pl.DataFrame, config: Config | None = None) -> Parsed:
    """The file (or a chunk of it, see pipeline.ingest.chunked) already read as an all-text frame;
    the adapters take the slash-date order from `config.dates.billing`."""
    columns = [c for c in frame.columns if c != ROW]
    found = adapter.first_match(adapters(), Head(columns=tuple(columns)))
    if found is None:
        raise InputError(_unknown(columns), path=path, row=0)
    return found[0].read(path, frame, config or Config())


def _with_dates(dates: str) -> Config:
    return Config(dates=Dates.model_validate({"billing": dates}))


def _unknown(columns: list[str]) -> str:
    lowered = {c.lower() for c in columns}

    def found(signature: tuple[str, ...]) -> list[str]:
        return [c for c in signature if c.lower() in lowered]

    known = adapters()
    signatures = [pair for each in known for pair in each.signatures]
    name, signature = max(signatures, key=lambda item: len(found(item[1])) / len(item[1]))
    hits = found(signature)
    missing = [c for c in signature if c not in hits]
    return (
        f"unrecognised billing format: known formats are {', '.join(each.description for each in known)}; "
        f"closest is {name} (found {hits}, missing {missing})"
    )
