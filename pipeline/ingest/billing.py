"""Billing exports: detect the format from the content and hand the file to its adapter.
Every adapter returns staging.billing rows in FOCUS 1.2 columns.

Detection never looks at the file name: Parquet by its magic bytes, JSON lines by a first `{`,
anything else as CSV; then the columns (or keys) decide the format. A file no adapter knows is
an error naming the known formats and the one it came closest to (columns found and missing)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.columns import FOCUS_REQUIRED
from pipeline.errors import InputError
from pipeline.ingest import aws_cur, azure, focus, gcp, oracle
from pipeline.ingest.parse import PARQUET_MAGIC, ROW, Parsed, read_csv_text, read_json_lines_text, read_parquet_text

KNOWN_FORMATS = (
    "FOCUS 1.0/1.1/1.2 (CSV or Parquet), AWS CUR 2.0 (Parquet or CSV), AWS legacy CUR (CSV), "
    "Azure cost details (EA, MCA, partner/CSP or legacy usage details; actual or amortized; CSV), "
    "Oracle Cloud FOCUS report (CSV), GCP billing export (JSON lines or flattened CSV)"
)
# format -> the columns that identify it (for the "closest format" message)
SIGNATURES: dict[str, tuple[str, ...]] = {
    "FOCUS": FOCUS_REQUIRED,
    "AWS CUR 2.0": aws_cur.SIGNATURE_CUR2,
    "AWS legacy CUR": aws_cur.SIGNATURE_LEGACY,
    "Azure cost details": azure.SIGNATURE,
    "Oracle Cloud cost report": oracle.NATIVE_COST,
    "GCP billing export": gcp.SIGNATURE,
}


def text_frame(path: Path, data: bytes) -> pl.DataFrame:
    """The file as an all-text frame with row_number, whatever its container."""
    if data[:4] == PARQUET_MAGIC:
        return read_parquet_text(path, data=data)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return read_json_lines_text(path, data=data)
    return read_csv_text(path, data=data)


def read(path: Path, data: bytes, *, dates: str = "auto") -> Parsed:
    """`dates`: the billing source's slash-date order setting (config `[dates]`)."""
    return read_frame(path, text_frame(path, data), dates=dates)


def read_frame(path: Path, frame: pl.DataFrame, *, dates: str = "auto") -> Parsed:
    """The file (or a chunk of it, see pipeline.ingest.chunked) already read as an all-text frame."""
    columns = [c for c in frame.columns if c != ROW]
    if focus.detect(columns) is not None:
        return focus.read(path, text=frame, dates=dates)
    if oracle.detect(columns) is not None:
        return oracle.read(path, text=frame, dates=dates)
    if aws_cur.detect(columns) is not None:
        return aws_cur.read(path, text=frame)
    if azure.detect(columns) is not None:
        return azure.read(path, text=frame, dates=dates)
    if gcp.detect(columns) is not None:
        return gcp.read(path, text=frame)
    raise InputError(_unknown(columns), path=path, row=0)


def _unknown(columns: list[str]) -> str:
    def found(signature: tuple[str, ...]) -> list[str]:
        lowered = {c.lower() for c in columns}
        return [c for c in signature if c.lower() in lowered]

    name, signature = max(SIGNATURES.items(), key=lambda item: len(found(item[1])) / len(item[1]))
    hits = found(signature)
    missing = [c for c in signature if c not in hits]
    return (
        f"unrecognised billing format: known formats are {KNOWN_FORMATS}; "
        f"closest is {name} (found {hits}, missing {missing})"
    )
