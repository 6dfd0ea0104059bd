"""The raw layer's files: every delivered row of a loaded file version, kept as Parquet in the
workspace and read through the view raw.source_rows.

`<workspace>/raw/shape=<shape>/source=<source>/load_id=<load id>/<n>.parquet` holds row_number and
record: a struct of the delivered columns, every value text (or, in shape `json`, the JSON text of
a row that is one document, a telemetry series). The shape is a digest of the record's type, so
the files of one shape folder share their columns and raw.source_rows reads each shape with one
read_parquet (pipeline.warehouse.define_raw_view). Keeping a file version's rows costs one Parquet
write, or the rename of the file the parse step staged, not a JSON object per row in the database.

The files are put in place before the load's transaction and removed if it fails. A load id is the
file's checksum, so files a writer left when it died hold the same rows: they are replaced when the
file loads again, and swept when no load holds them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import polars as pl

from pipeline.ingest import bundle
from pipeline.warehouse import JSON_SHAPE, RAW_FOLDER
from pipeline.workspace import Workspace

RECORD = "record"


def _root(ws: Workspace) -> Path:
    return ws.root / RAW_FOLDER


def shape(record: pl.DataType) -> str:
    """The shape folder of a record type: `json` for JSON text, else a digest of the struct's
    fields (names and order as delivered)."""
    if record == pl.String:
        return JSON_SHAPE
    return hashlib.sha256(str(record).encode()).hexdigest()[:16]


def _target(ws: Workspace, record: pl.DataType, source: str, load_id: str, index: int) -> Path:
    folder = _root(ws) / f"shape={shape(record)}" / f"source={source}" / f"load_id={load_id}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{index:05d}.parquet"


def store(ws: Workspace, source: str, load_id: str, *, frame: pl.DataFrame | None, found: bundle.Bundle | None) -> None:
    """Put the load's raw rows in place: the parse step's raw files of bundle `found` (moved), or
    `frame` (row_number, record) written here. Replaces whatever an earlier try left."""
    remove(ws, load_id)
    if found is not None:
        for index, file in enumerate(found.files("raw"), start=1):
            with open(file, "rb") as handle:  # the file itself: its path is no glob pattern
                record = pl.read_parquet_schema(handle)[RECORD]
            shutil.move(file, _target(ws, record, source, load_id, index))
    elif frame is not None and frame.height:
        frame.write_parquet(_target(ws, frame.schema[RECORD], source, load_id, 1))


def remove(ws: Workspace, load_id: str) -> None:
    """Delete the load's raw files, and the shape and source folders left empty."""
    for folder in list(_root(ws).glob(f"shape=*/source=*/load_id={load_id}")):
        shutil.rmtree(folder, ignore_errors=True)
        for parent in (folder.parent, folder.parent.parent):
            if not any(parent.iterdir()):
                parent.rmdir()


def sweep(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    """Delete raw files of loads the warehouse does not hold (left by a writer that died)."""
    held = {
        row[0]
        for row in con.execute("select load_id from meta.loads where status in ('loaded', 'superseded')").fetchall()
    }
    for folder in list(_root(ws).glob("shape=*/source=*/load_id=*")):
        load_id = folder.name.removeprefix("load_id=")
        if load_id not in held:
            remove(ws, load_id)
