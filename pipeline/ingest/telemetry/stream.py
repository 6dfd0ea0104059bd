"""Parsing a large telemetry file a chunk at a time, so that no file is held whole in memory.

A telemetry file whose content (gzip: decompressed; Parquet: its uncompressed pages) is larger
than `[ingest] chunk_mib` is cut into chunks as pipeline.ingest.chunked cuts a billing file: CSV
(long samples, nvidia-smi logs) at record ends outside quotes, each chunk after the first with the
header line (a headerless nvidia-smi log: without); exposition text at any line end; Parquet long
samples in runs of row groups. Each chunk goes through its format's adapter as a whole file
would, but stops after the steps each sample decides alone (pipeline.ingest.telemetry.samples:
`typed`), and its candidate samples, raw rows and rejects are staged to disk.

Once every chunk is read, what a whole-file parse decides from all of a file's samples is decided
over the staged chunks, in this order:
1. the adapter completes the samples from what the whole file showed (exposition: a sample
   without a timestamp takes its scrape's time, known once the scrapes are counted and the scrape
   time found; nvidia-smi: the step, the smallest distance between a GPU's lines);
2. samples of one series and time with different values are quarantined (sql/ingest/
   sample_conflicts.sql, with DuckDB, which spills to disk), one reject per row;
3. a row with any rejected sample is quarantined whole, and the copies of a sample are folded
   into the first (sql/ingest/sample_copies.sql);
4. the row checks (pipeline.ingest.checks: samples dated in the future), exact duplicate rows
   (except exposition lines, which repeat in every scrape) as pipeline.ingest.chunked finds them,
   and the bad-row policy;
5. the notes: sentinels dropped and samples folded summed over the chunks.
The result is the whole-file parse's: the same rows loaded, quarantine rows and reasons, notes.

A Prometheus API answer is one JSON document: it is parsed whole, within `[ingest]
max_document_mib` (pipeline.ingest.limits refuses a larger one). A counters file larger than a
chunk is refused (it is a catalogue of a few hundred lines).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import polars as pl

from pipeline import warehouse
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest import bundle, checks, chunked, limits, scratch
from pipeline.ingest.adapter import Head
from pipeline.ingest.parse import PARQUET_MAGIC, ROW, Parsed, Tally, merge_notes
from pipeline.ingest.parsed import record_hash
from pipeline.ingest.telemetry import exposition, head_of, long_samples, nvidia_smi, recognise
from pipeline.ingest.telemetry.samples import CHUNK, FOLDED, ORDER, REJECTS, SAMPLE_COLUMNS, conflicts
from pipeline.workspace import Workspace

SOURCE = "telemetry"
SEQ = "_seq"  # a sample's place in the file: chunk << 32 | its place in the chunk's frame
_HEAD = 1 << 16  # bytes of content read to tell a JSON document


class Reader(Protocol):
    """A format's reader of one file's chunks (see the module docstring)."""

    csv: bool  # records end at line ends outside quotes, and a header line leads

    def header(self, first_line: str) -> bool: ...
    def chunk(self, data: bytes | pl.DataFrame, first: int) -> Parsed: ...
    def complete(self, rows: pl.DataFrame) -> pl.DataFrame: ...
    def notes(self) -> list[str]: ...


class _LongCsv:
    """Long samples in CSV: each chunk stands alone."""

    csv = True

    def __init__(self, path: Path, config: Config) -> None:
        self.path, self.config = path, config

    def header(self, first_line: str) -> bool:
        return True

    def chunk(self, data: bytes | pl.DataFrame, first: int) -> Parsed:
        if isinstance(data, pl.DataFrame):
            return long_samples.read_frame(
                self.path, data, long_samples.FORMAT_PARQUET, self.config, first=first, steps=CHUNK
            )
        frame = long_samples.csv_frame(self.path, data)
        return long_samples.read_frame(self.path, frame, long_samples.FORMAT_CSV, self.config, first=first, steps=CHUNK)

    def complete(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows

    def notes(self) -> list[str]:
        return []


READERS: dict[str, Callable[[Path, Config], Reader]] = {
    long_samples.ADAPTER.name: _LongCsv,
    nvidia_smi.ADAPTER.name: nvidia_smi.Chunks,
    exposition.ADAPTER.name: exposition.Chunks,
}


def wanted(ws: Workspace, source: str, path: Path, scanned: limits.Scan) -> bool:
    """True when the file is parsed in chunks: telemetry whose content is larger than a chunk,
    other than a JSON document (a Prometheus answer: parsed whole)."""
    return (
        source == SOURCE
        and scanned.problem is None
        and scanned.content > chunked.chunk_bytes(ws)
        and not _json_document(path)
    )


def _json_document(path: Path) -> bool:
    with path.open("rb") as handle:
        start = handle.read(_HEAD)
        if start[:2] == limits.GZIP_MAGIC:
            handle.seek(0)
            try:
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    start = unzipped.read(_HEAD)
            except (OSError, EOFError):
                return False  # the parse says what is wrong with it
    return start.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def stage(
    ws: Workspace, source: str, path: Path, scanned: limits.Scan, *, load_id: str, relative: str
) -> bundle.Bundle:
    """Parse a large telemetry file chunk by chunk into a bundle (see the module docstring).
    Raises InputError for what rejects the file and limits.Moved when it is not the file scanned."""
    out = bundle.Chunks(ws, load_id, source=source, relative=relative, checksum=scanned.checksum)
    try:
        return _Driver(ws, path, out).run(scanned)
    except BaseException:
        out.abort()
        raise


class _Driver:
    """One file's chunks: parsed and staged, then settled over all of them."""

    def __init__(self, ws: Workspace, path: Path, out: bundle.Chunks) -> None:
        self.ws, self.path, self.out = ws, path, out
        self.config = ws.config
        self.reader: Reader | None = None
        self.format: str | None = None
        self.chunks = 0
        self.rows = 0  # raw rows so far
        self.notes: list[str] = []
        self.hashes: list[pl.DataFrame] = []  # row_number, hash of the raw record: duplicate candidates
        self.firsts: list[int] = []  # the first row of each chunk

    def run(self, scanned: limits.Scan) -> bundle.Bundle:
        for index, (data, shift) in enumerate(self._chunks(scanned)):
            self._parse(index, data, shift)
        reader = self.reader
        assert reader is not None
        for index in range(self.chunks):
            candidates = self.out.path("cand", index)
            bundle.read(candidates).pipe(reader.complete).write_parquet(candidates)
        self._conflicts()
        folded = self._fold_and_check()
        if self.format != exposition.FORMAT:  # exposition lines repeat in every scrape
            self._duplicates()
        return self.out.commit(self._meta(reader.notes(), folded), self.chunks)

    def _chunks(self, scanned: limits.Scan) -> Iterator[tuple[bytes | pl.DataFrame, int]]:
        """The file's chunks (and how far a chunk's line numbers are from the file's); at the end,
        limits.Moved unless the bytes read were the bytes scanned."""
        size = chunked.chunk_bytes(self.ws)
        before = os.stat(self.path)
        with self.path.open("rb") as handle:
            parquet = handle.read(4) == PARQUET_MAGIC
        if parquet:
            self._recognise(Head())
            for frame in chunked.parquet_frames(self.path, size):
                yield frame, 0
            digest, length = limits.checksum(self.path), os.stat(self.path).st_size
        else:
            hashed: list[chunked.Hashed] = []
            blocks = chunked.content_blocks(self.path, hashed)
            first = next(blocks, b"")
            head = head_of(first[: first.rfind(b"\n") + 1 or len(first)].decode("utf-8-sig", errors="replace"))
            reader = self._recognise(head)
            copied = reader.csv and reader.header(head.first_line)
            lead = b""
            for piece in chunked.pieces(chunked.chain(first, blocks), size, csv=reader.csv):
                data, shift = piece.data, piece.line_shift
                if reader.csv and not lead:
                    lead = data[: data.find(b"\n") + 1]
                elif reader.csv and not copied:  # a headerless log: the first record was copied ahead
                    data, shift = data[len(lead) :], shift + lead.count(b"\n")
                yield data, shift
            digest, length = hashed[0].digest.hexdigest(), hashed[0].size
        after = os.stat(self.path)
        if (digest, length) != (scanned.checksum, scanned.size) or after.st_mtime_ns != before.st_mtime_ns:
            raise limits.Moved(f"changed while it was read ({scanned.size:,} bytes, then {length:,})")

    def _recognise(self, head: Head) -> Reader:
        found = recognise(self.path, head)
        make = READERS.get(found.name)
        if make is None:
            raise InputError(
                f"a {found.name} of more than {chunked.chunk_bytes(self.ws):,} bytes (ingest.chunk_mib) is not read",
                path=self.path,
            )
        self.reader = make(self.path, self.config)
        return self.reader

    def _parse(self, index: int, data: bytes | pl.DataFrame, shift: int) -> None:
        assert self.reader is not None
        try:
            parsed = self.reader.chunk(data, self.rows)
        except InputError as exc:
            raise chunked.shifted(exc, shift) from None
        self.format = self.format or parsed.format
        self.rows += parsed.raw.height
        self.chunks = index + 1
        self.firsts.append(self.rows - parsed.raw.height + 1)
        self.notes += parsed.notes
        seq = (pl.lit(index, dtype=pl.Int64) * (1 << 32) + pl.col(ORDER).cast(pl.Int64)).alias(SEQ)
        parsed.rows.with_columns(seq).drop(ORDER).write_parquet(self.out.path("cand", index))
        parsed.raw.write_parquet(self.out.path("raw", index))  # moved into the raw layer as it is
        parsed.rejects.cast(REJECTS).write_parquet(self.out.path("rejects", index))
        if parsed.format != exposition.FORMAT:
            self.hashes.append(parsed.raw.select(ROW, record_hash(parsed.raw).alias("h")))

    def _glob(self, name: str) -> str:
        return str(self.out.folder / f"{name}-*.parquet")

    def _conflicts(self) -> None:
        """Samples of one series and time that disagree: one reject per row not yet rejected."""
        with scratch.scratch_duckdb(self.out) as con:
            query = warehouse.sql_text("ingest", "sample_conflicts")
            found = con.sql(query, params={"candidates": self._glob("cand")}).pl()
        if not found.height:
            return
        for index in found.select(pl.col(SEQ) // (1 << 32)).unique().to_series().to_list():
            seqs = found.filter(pl.col(SEQ) // (1 << 32) == index).get_column(SEQ)
            samples = bundle.read(self.out.path("cand", index)).filter(pl.col(SEQ).is_in(seqs.implode()))
            rejects_file = self.out.path("rejects", index)
            rejects = bundle.read(rejects_file)
            new = (
                conflicts(samples.sort(SEQ))
                .filter(~pl.col(ROW).is_in(rejects.get_column(ROW).implode()))
                .unique(ROW, keep="first", maintain_order=True)
            )
            pl.concat([rejects, new]).sort(ROW, maintain_order=True).write_parquet(rejects_file)

    def _fold_and_check(self) -> int:
        """Each chunk's rows: its samples less those of rejected rows and the copies of an
        earlier sample, through the row checks; returns the samples folded."""
        with scratch.scratch_duckdb(self.out) as con:
            query = warehouse.sql_text("ingest", "sample_copies")
            copies = con.sql(query, params={"candidates": self._glob("cand"), "rejects": self._glob("rejects")}).pl()
        now = datetime.now(UTC).replace(tzinfo=None)
        chunk_of = copies.get_column(SEQ) // (1 << 32)
        for index in range(self.chunks):
            rejects = bundle.read(self.out.path("rejects", index)).cast(REJECTS)
            gone = copies.filter(chunk_of == index).get_column(SEQ)
            rows = (
                bundle.read(self.out.path("cand", index))
                .filter(~pl.col(ROW).is_in(rejects.get_column(ROW).implode()) & ~pl.col(SEQ).is_in(gone.implode()))
                .select(ROW, *SAMPLE_COLUMNS)
            )
            raw = bundle.read(self.out.path("raw", index))
            parsed = Parsed(format=self.format or "", raw=raw, rows=rows, rejects=rejects)
            checked = checks.apply(parsed, source=SOURCE, path=self.path, config=self.config, now=now, whole=False)
            found = rejects.get_column(ROW).implode()
            parse = Parsed(format=parsed.format, raw=raw, rows=checked.rows, rejects=rejects)
            self.out.add(index, parse, checked.rejects.filter(~pl.col(ROW).is_in(found)))
            self.out.path("cand", index).unlink()
        return copies.height

    def _duplicates(self) -> None:
        """Rows identical in every column to an earlier row of the file, in any chunk, not rejected
        by the parse: moved from the chunk's rows (and from its row checks' rejects, whose reason
        they take, as in checks.apply) to its rejects, with the reason a whole-file parse gives.
        Rows whose record hashes repeat are compared exactly (as JSON text, with DuckDB)."""
        hashes = pl.concat(self.hashes) if self.hashes else pl.DataFrame(schema={ROW: pl.Int64, "h": pl.UInt64})
        self.hashes = []
        candidates = hashes.filter(pl.col("h").is_duplicated()).select(ROW)
        if not candidates.height:
            return
        raws = [self.out.path("raw", index) for index in range(self.chunks)]
        dups = scratch.duplicate_records(self.out, raws, candidates)
        ends = [*self.firsts[1:], self.rows + 1]
        for index, (low, high) in enumerate(zip(self.firsts, ends, strict=True)):
            parse_rejects = bundle.read(self.out.path("rejects", index))
            mine = dups.filter(
                pl.col(ROW).is_between(low, high, closed="left")
                & ~pl.col(ROW).is_in(parse_rejects.get_column(ROW).implode())
            )
            if not mine.height:
                continue
            gone = mine.get_column(ROW).implode()
            rows_file, checked_file = self.out.path("rows", index), self.out.path("rejects", index, "-checks")
            rows, checked = bundle.read(rows_file), bundle.read(checked_file)
            rows.filter(~pl.col(ROW).is_in(gone)).write_parquet(rows_file, compression="uncompressed", statistics=False)
            checked.filter(~pl.col(ROW).is_in(gone)).write_parquet(checked_file)
            mine.select(
                ROW,
                pl.lit("(every column)").alias("column"),
                pl.lit(None, dtype=pl.String).alias("value"),
                pl.format("duplicate line: identical to row {} in every column", "first").alias("reason"),
            ).cast(REJECTS).write_parquet(self.out.path("rejects", index, "-dups"))

    def _meta(self, first_notes: list[str], folded: int) -> dict:
        """File-level counts, the bad-row policy, periods and notes (the bundle's meta)."""
        with scratch.scratch_duckdb(self.out) as con:
            rows_in = con.execute(
                "select count(*) from read_parquet(?, hive_partitioning = false)", [self._glob("raw")]
            ).fetchall()[0][0]
            quarantined = con.execute(
                "select count(distinct row_number) from read_parquet(?, hive_partitioning = false)",
                [self._glob("rejects")],
            ).fetchall()[0][0]
            staged, periods = con.execute(
                "select count(distinct row_number), list(distinct strftime(ts, '%Y-%m')) "
                "from read_parquet(?, hive_partitioning = false)",
                [self._glob("rows")],
            ).fetchall()[0]
            if quarantined and checks.policy(self.config, SOURCE) == "reject_file":
                query = "select * from read_parquet(?, hive_partitioning = false) order by row_number"
                rejects = con.sql(query, params=[self._glob("rejects")]).pl()
                raw = con.sql(
                    "select row_number from read_parquet(?, hive_partitioning = false)", params=[self._glob("raw")]
                ).pl()
                raise checks.refusal(rejects.cast(REJECTS), raw, source=SOURCE, path=self.path)
        notes = first_notes + merge_notes(self.notes) + ([Tally(FOLDED, folded)] if folded else [])
        if not rows_in:
            notes.append(checks.HEADER_ONLY)
        return {
            "format": self.format,
            "rows_in": rows_in,
            "rows_loaded": rows_in - quarantined,
            "rows_quarantined": quarantined,
            "notes": [str(note) for note in notes],
            "periods": sorted(p for p in (periods or []) if p is not None),
            "staged_rows": staged,
        }
