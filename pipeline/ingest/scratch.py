"""Scratch DuckDB work over a large file's staged chunks (pipeline.ingest.chunked for billing,
pipeline.ingest.telemetry.stream for telemetry): an in-memory database that spills beside the
chunks, and the exact comparison of rows whose record hashes repeat across chunks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.ingest import bundle


def scratch_duckdb(out: bundle.Chunks) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for reading the staged chunks, in bounded memory (it spills beside them)."""
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute("set memory_limit = '512MB'")
    spill = str(out.folder / "spill").replace("'", "''")
    con.execute(f"set temp_directory = '{spill}'")
    return con


def duplicate_records(out: bundle.Chunks, raws: list[Path], candidates: pl.DataFrame) -> pl.DataFrame:
    """(row_number, first): the `candidates` rows (their record hashes repeat) identical in every
    column to an earlier row `first`, compared exactly as JSON text over the chunks' raw rows."""
    with scratch_duckdb(out) as con:
        con.register("candidates", candidates.to_arrow())
        con.execute("create table records (row_number bigint, r varchar)")
        for raw in raws:  # one file at a time: JSON-lines chunks may differ in their keys
            con.execute(warehouse.sql_text("ingest", "chunk_records"), {"raw": str(raw)})
        return con.sql(warehouse.sql_text("ingest", "duplicate_records")).pl()
