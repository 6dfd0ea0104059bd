"""Parsing a large billing file in row-aligned chunks, so that no file is held whole in memory.

A billing file whose content (gzip: decompressed; Parquet: its uncompressed pages) is larger than
`[ingest] chunk_mib` (default 64) is streamed: its content is cut at record ends into chunks of
about that size, and each chunk goes through the same detection, adapter and row checks as a whole
file would (pipeline.ingest.billing, pipeline.ingest.checks), its rows numbered as in the whole
file. Each chunk's typed rows, raw rows and rejects are written as Parquet files of one bundle
(pipeline.ingest.bundle.Chunks), which the writer inserts without Python, as it does the parse
step's bundles. Smaller files take the whole-file path unchanged.

Where a record ends: CSV, at a newline outside quotes (the count of `"` since the start of the
content is even; counted with numpy a block at a time, as pipeline.ingest.limits measures values;
each chunk after the first is the header line followed by its records); JSON lines, at any newline;
Parquet, after whole row groups (a row group larger than a chunk is read in row slices).

What a whole-file parse decides from all of a file's rows is decided the same way over its chunks
(parse.FileScope): the slash-date order (the first chunk that shows it fixes it; a chunk whose
dates are all ambiguous, or whose bad dates' reasons name the order, is parsed again once every
chunk has been seen; a chunk contradicting the order is the file's "both orders" error), the one
currency a fallback currency column names, the notes that count (rounded amounts: one note with
the summed count and residual), exact duplicate rows (found over all the raw rows with DuckDB once
every chunk is staged, with today's reason, replacing a row check's reason as in a whole-file
parse) and the `reject_file` policy (any chunk's bad row rejects the file, naming the first bad
row of the file). The stream is hashed as it is read: a file that no longer has the bytes its
checksum was taken of raises limits.Moved.

Telemetry files are cut the same way and parsed chunk by chunk in pipeline.ingest.telemetry.stream.
A Prometheus API answer (one JSON document), the other tables and HR files are parsed whole,
within `max_document_mib` and `max_table_mib` (see pipeline.ingest.limits).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

import duckdb
import numpy as np
import polars as pl

from pipeline.errors import InputError
from pipeline.ingest import billing, bundle, checks, limits, scratch
from pipeline.ingest.parse import (
    PARQUET_MAGIC,
    REJECT_SCHEMA,
    ROW,
    FileScope,
    Parsed,
    Undecided,
    file_scope,
    merge_notes,
    parquet_text,
)
from pipeline.ingest.parsed import record_hash
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

CHUNKED = frozenset({"billing"})  # sources whose large files are parsed in chunks (see the docstring)
MIB = 1 << 20
_QUOTE, _NEWLINE = ord('"'), ord("\n")


def chunk_bytes(ws: Workspace) -> int:
    return max(1, int(ws.config.ingest.chunk_mib * MIB))


def wanted(ws: Workspace, source: str, scanned: limits.Scan) -> bool:
    """True when the file is parsed in chunks: a billing file whose content is larger than a chunk."""
    return source in CHUNKED and scanned.problem is None and scanned.content > chunk_bytes(ws)


@dataclass(frozen=True)
class Piece:
    """One chunk of text content: its bytes (the header line first, for a CSV chunk after the
    first), the rows before it in the file and how far its line numbers are from the file's."""

    data: bytes
    line_shift: int


class Hashed:
    """A binary file read through SHA-256 (the bytes as delivered, before gzip)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def readable(self) -> bool:
        return True


def content_blocks(path: Path, hashed_into: list[Hashed]) -> Iterator[bytes]:
    """The file's content a block at a time (gzip decompressed as it goes)."""
    with path.open("rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        source = Hashed(handle)
        hashed_into.append(source)
        stream = gzip.GzipFile(mode="rb", fileobj=cast(BinaryIO, source)) if head == limits.GZIP_MAGIC else source
        try:
            while block := stream.read(limits.CHUNK):
                yield block
        except (OSError, EOFError) as exc:
            raise InputError(f"truncated or corrupt gzip data ({exc})", path=path) from None
        while source.read(limits.CHUNK):  # whatever follows the gzip data: hashed too
            pass


def record_ends(data: np.ndarray, *, csv: bool) -> np.ndarray:
    """Offsets just after each newline of `data` that ends a record (CSV: outside quotes, as the
    quotes since the start of `data` are even; `data` must start at a record start)."""
    newlines = np.flatnonzero(data == _NEWLINE)
    if csv and len(newlines):
        quotes = np.flatnonzero(data == _QUOTE)
        if len(quotes):
            newlines = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
    return newlines + 1


def pieces(blocks: Iterator[bytes], size: int, *, csv: bool) -> Iterator[Piece]:
    """Cut the content at record ends into chunks of at least `size` bytes (the last one may be
    smaller). CSV chunks after the first start with a copy of the header line."""
    buffer = bytearray()
    header = b""
    lines = 0  # line ends before the buffer, in the content
    first = True
    for block in blocks:
        buffer += block
        if len(buffer) < size:
            continue
        ends = record_ends(np.frombuffer(buffer, dtype=np.uint8), csv=csv)
        start = 0
        while True:
            floor = start + size
            if first and csv:
                if not header:
                    if not len(ends):
                        break
                    header = bytes(buffer[: int(ends[0])])
                floor = max(floor, len(header) + 1)
            k = int(np.searchsorted(ends, floor))
            if k >= len(ends):
                break
            cut = int(ends[k])
            data = bytes(memoryview(buffer)[start:cut])
            yield _piece(data, header, lines, first=first, csv=csv)
            lines += data.count(b"\n")
            first = False
            start = cut
        del buffer[:start]
    if first or bytes(buffer).strip():
        yield _piece(bytes(buffer), header, lines, first=first, csv=csv)


def _piece(data: bytes, header: bytes, lines: int, *, first: bool, csv: bool) -> Piece:
    if first or not csv:
        return Piece(data, lines)
    return Piece(header + data, lines - header.count(b"\n"))


def parquet_frames(path: Path, size: int) -> Iterator[pl.DataFrame]:
    """A Parquet file in slices of whole row groups of about `size` bytes uncompressed (a larger
    row group in slices of rows), as Polars reads them (the types of pl.read_parquet)."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    slices: list[tuple[int, int]] = []
    offset, start, held = 0, 0, 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        if group.total_byte_size > size and group.num_rows > 1:
            if offset > start:
                slices.append((start, offset - start))
            step = max(1, group.num_rows * size // max(group.total_byte_size, 1))
            slices += [(offset + n, min(step, group.num_rows - n)) for n in range(0, group.num_rows, step)]
            offset += group.num_rows
            start, held = offset, 0
            continue
        offset += group.num_rows
        held += group.total_byte_size
        if held >= size:
            slices.append((start, offset - start))
            start, held = offset, 0
    if offset > start or not slices:
        slices.append((start, offset - start))
    lazy = pl.scan_parquet(path, glob=False)
    for first, length in slices:
        yield lazy.slice(first, length).collect()


def _one(con: duckdb.DuckDBPyConnection, query: str, params: list[object] | None = None) -> tuple:
    """The one row a query returns."""
    rows = con.execute(query, params or []).fetchall()  # all: DuckDB refuses other work while a result is open
    assert len(rows) == 1
    return rows[0]


def shifted(exc: InputError, lines: int) -> InputError:
    """An error a text reader raised naming a line of a chunk, naming the file's line instead."""
    if not lines or not exc.row:
        return exc
    moved = InputError(exc.message, path=exc.path, row=exc.row + lines, column=exc.column)
    moved.__cause__ = exc.__cause__
    return moved


class _Driver:
    """One file's chunks: parsed, checked and staged; the file-level results kept."""

    def __init__(self, ws: Workspace, source: str, path: Path, out: bundle.Chunks) -> None:
        self.ws, self.source, self.path, self.out = ws, source, path, out
        self.scope = FileScope()
        self.now = datetime.now(UTC).replace(tzinfo=None)
        self.notes: dict[int, list[str]] = {}
        self.formats: dict[int, str] = {}
        self.offsets: dict[int, int] = {}  # chunk -> rows before it
        self.deferred: list[int] = []
        self.rows = 0
        # the file's counts and periods, summed over its chunks (exact duplicates come after)
        self.rows_in = self.quarantined = self.staged = 0
        self.periods: set[str] = set()
        self.hashes: list[pl.DataFrame] = []  # row_number, hash of the raw record: duplicate candidates

    def frame(self, index: int, piece: Piece | pl.DataFrame) -> pl.DataFrame:
        """The chunk's all-text frame, its rows numbered as in the whole file."""
        new = index not in self.offsets
        first = self.offsets.setdefault(index, self.rows)
        if isinstance(piece, pl.DataFrame):
            frame = parquet_text(piece, self.path, first=first + 1)
        else:
            try:
                frame = billing.text_frame(self.path, piece.data)
            except InputError as exc:
                raise shifted(exc, piece.line_shift) from None
            frame = frame.with_columns(pl.col(ROW) + first)
        if new:
            self.rows += frame.height
        return frame

    def parse(self, index: int, piece: Piece | pl.DataFrame) -> None:
        frame = self.frame(index, piece)
        if index and not frame.height:
            return  # blank lines at the end: nothing to stage
        with file_scope(self.scope):
            try:
                parsed = billing.read_frame(self.path, frame, self.ws.config)
            except Undecided:
                self.deferred.append(index)
                return
        checked = checks.apply(
            parsed, source=self.source, path=self.path, config=self.ws.config, now=self.now, whole=False
        )
        found = set(parsed.rejects.get_column(ROW).to_list())
        staged = Parsed(format=checked.format, raw=checked.raw, rows=checked.rows, rejects=parsed.rejects)
        self.out.add(index, staged, checked.rejects.filter(~pl.col(ROW).is_in(list(found))))  # each reject once
        self.notes[index] = list(checked.notes)
        self.formats[index] = parsed.format
        self.rows_in += checked.raw.height
        self.quarantined += checked.rejects.get_column(ROW).n_unique()
        self.staged += checked.rows.get_column(ROW).n_unique()
        self.periods |= set(checked.rows.get_column("x_BillingPeriod").drop_nulls().unique().to_list())
        self.hashes.append(checked.raw.select(ROW, record_hash(checked.raw).alias("h")))


def stage(
    ws: Workspace, source: str, path: Path, scanned: limits.Scan, *, load_id: str, relative: str
) -> bundle.Bundle:
    """Parse a large file chunk by chunk into a bundle (see the module docstring). Raises
    InputError for what rejects the file (the rows it carries, under `reject_file`) and
    limits.Moved when the file is not the one scanned."""
    out = bundle.Chunks(ws, load_id, source=source, relative=relative, checksum=scanned.checksum)
    try:
        driver = _Driver(ws, source, path, out)
        size = chunk_bytes(ws)
        for index, piece in enumerate(_stream(path, scanned, size)):
            driver.parse(index, piece)
        if driver.deferred:  # every chunk seen: the scope now holds what the whole file shows
            driver.scope.final = True
            again = set(driver.deferred)
            for index, piece in enumerate(_stream(path, scanned, size)):
                if index in again:
                    driver.parse(index, piece)
        meta = _finish(ws, source, path, out, driver)
        return out.commit(meta, len(driver.formats))
    except BaseException:
        out.abort()
        raise


def _stream(path: Path, scanned: limits.Scan, size: int) -> Iterator[Piece | pl.DataFrame]:
    """The file's chunks; at the end, limits.Moved unless the bytes read were the bytes scanned."""
    before = os.stat(path)
    with path.open("rb") as handle:
        parquet = handle.read(4) == PARQUET_MAGIC
    if parquet:
        yield from parquet_frames(path, size)
        digest, length = limits.checksum(path), os.stat(path).st_size
    else:
        hashed: list[Hashed] = []
        blocks = content_blocks(path, hashed)
        first = next(blocks, b"")
        csv = first.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{"
        yield from pieces(chain(first, blocks), size, csv=csv)
        digest, length = hashed[0].digest.hexdigest(), hashed[0].size
    after = os.stat(path)
    if (digest, length) != (scanned.checksum, scanned.size) or after.st_mtime_ns != before.st_mtime_ns:
        raise limits.Moved(f"changed while it was read ({scanned.size:,} bytes, then {length:,})")


def chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _finish(ws: Workspace, source: str, path: Path, out: bundle.Chunks, driver: _Driver) -> dict:
    """File-level results over the staged chunks: exact duplicates, the bad-row policy, counts,
    periods and notes (the bundle's meta)."""
    moved, added = _duplicates(out, sorted(driver.formats), pl.concat(driver.hashes) if driver.hashes else None)
    rows_in, quarantined, staged = driver.rows_in, driver.quarantined + added, driver.staged - moved
    if quarantined and checks.policy(ws.config, source) == "reject_file":
        with scratch.scratch_duckdb(out) as con:
            glob = str(out.folder / "{}-*.parquet")
            query = "select * from read_parquet($1, hive_partitioning = false) order by row_number"
            rejects = con.sql(query, params=[glob.format("rejects")]).pl()
            raw = con.sql(
                "select row_number from read_parquet($1, hive_partitioning = false)", params=[glob.format("raw")]
            ).pl()
        raise checks.refusal(rejects.cast(REJECT_SCHEMA), raw, source=source, path=path)
    notes = merge_notes([note for index in sorted(driver.notes) for note in driver.notes[index]])
    if not rows_in:
        notes.append(checks.HEADER_ONLY)
        log.warning("%s: %s", path, checks.HEADER_ONLY)
    formats = [driver.formats[index] for index in sorted(driver.formats)]
    return {
        "format": formats[0] if formats else None,
        "rows_in": rows_in,
        "rows_loaded": rows_in - quarantined,
        "rows_quarantined": quarantined,
        "notes": [str(note) for note in notes],
        "periods": sorted(driver.periods),
        "staged_rows": staged,
    }


def _duplicates(out: bundle.Chunks, chunks: list[int], hashes: pl.DataFrame | None) -> tuple[int, int]:
    """Rows identical in every column to an earlier row of the file, in any chunk: moved from
    the chunk's rows (and from its row checks' rejects, whose reason they take, as in
    checks.apply) to its rejects, with the reason a whole-file parse gives. Rows whose record
    hashes repeat are compared exactly (as JSON text, with DuckDB). Returns (rows moved out of
    the staged rows, rows newly quarantined)."""
    if hashes is None:
        return 0, 0
    candidates = hashes.filter(pl.col("h").is_duplicated()).select(ROW)
    if not candidates.height:
        return 0, 0
    dups = scratch.duplicate_records(out, [out.path("raw", index) for index in chunks], candidates)
    moved = added = 0
    if not dups.height:
        return moved, added
    for index in chunks:
        rows_file = out.path("rows", index)
        rows = bundle.read(rows_file)
        parse_rejects = bundle.read(out.path("rejects", index))
        checked_file = out.path("rejects", index, "-checks")
        checked = bundle.read(checked_file)
        numbers = pl.concat([rows.get_column(ROW), parse_rejects.get_column(ROW), checked.get_column(ROW)])
        if numbers.is_empty():
            continue
        low, high = numbers.min(), numbers.max()
        mine = dups.filter(pl.col(ROW).is_between(low, high) & ~pl.col(ROW).is_in(parse_rejects.get_column(ROW)))
        if not mine.height:
            continue
        gone = mine.get_column(ROW)
        kept = rows.filter(~pl.col(ROW).is_in(gone))
        moved += rows.get_column(ROW).n_unique() - kept.get_column(ROW).n_unique()
        added += int((~gone.is_in(checked.get_column(ROW))).sum())
        kept.write_parquet(rows_file, compression="uncompressed", statistics=False)
        checked.filter(~pl.col(ROW).is_in(gone)).write_parquet(checked_file)
        mine.select(
            ROW,
            pl.lit("(every column)").alias("column"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.format("duplicate line: identical to row {} in every column", "first").alias("reason"),
        ).cast(REJECT_SCHEMA).write_parquet(out.path("rejects", index, "-dups"))
    return moved, added
