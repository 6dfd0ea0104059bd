"""The limits a delivered file must keep, checked in one streaming pass before any parser reads it.

A file is read once in chunks of 1 MiB: the pass takes its SHA-256 (the file's identity), and
measures its content as the parsers will see it: gzip is decompressed a chunk at a time (never
more than a chunk of output held), and the content is measured against the `[ingest]` limits of
the configuration (see pipeline.config.Ingest):

| limit | what it bounds |
|---|---|
| `max_file_mib` | the content of one file (a gzip file: once decompressed; Parquet: its uncompressed pages) |
| `max_gzip_ratio` | how many times its size a gzip file expands (once the content passes 64 MiB) |
| `max_line_mib` | a line of a CSV, JSON-lines or text file (a JSON document, a Prometheus answer, is exempt) |
| `max_field_mib` | a CSV value, quoted or not (a quoted value may span lines) |
| `max_table_mib` | the content of a file that is neither billing nor telemetry (parsed whole; default 128) |
| `max_document_mib` | a JSON document, a Prometheus API answer (parsed whole, in ~55 times its size; default 32) |
| `chunk_mib` | not a limit: a billing or telemetry file with more content is parsed in chunks of about this size |

A file beyond a limit is rejected with one message naming the limit, the place and the setting
to raise; decompression stops at the first breach, so a gzip bomb costs a few MiB of memory. The
checksum is still taken over the whole file, so the same bytes delivered again are the same
rejected version. CSV values are measured by their quotes with numpy, a chunk at a time: quotes
toggle the quoted state (an escaped quote `""` toggles it twice), and a comma or line end outside
quotes ends a value.

What is parsed in chunks, and what whole: billing files (FOCUS, CUR, Azure, Oracle and GCP
exports; CSV, JSON lines, Parquet; plain or gzip; pipeline.ingest.chunked) and telemetry files
(long samples in CSV or Parquet, nvidia-smi logs, exposition text; pipeline.ingest.telemetry.stream)
larger than `chunk_mib` are streamed and parsed a chunk at a time, so their size is bounded by
`max_file_mib` only (and disk). Parsed whole: a Prometheus API answer (one JSON document; Python
holds it as objects of many times its size), within `max_document_mib`; the other tables (small;
checked for duplicate keys across the file) and HR files (small, and never staged outside the
restricted database), within `max_table_mib`. Each bounds the peak memory of parsing its files
(measured with benchmarks/hostile_inputs.py: under 2 GiB at the defaults).

The pass also notices a file in motion: if its size or modification time changes while it is
read, `scan` raises `Moved`, and the caller leaves the file for a later run.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import Ingest

CHUNK = 1 << 20
MIB = 1 << 20
RATIO_FLOOR = 64 * MIB  # a gzip file expanding to less than this is never refused for its ratio
GZIP_MAGIC = b"\x1f\x8b"
_QUOTE, _COMMA, _NEWLINE = ord('"'), ord(","), ord("\n")


class Moved(Exception):
    """The file changed (size or modification time) while it was read."""


# Sources whose large files are parsed in chunks (pipeline.ingest.chunked, pipeline.ingest.telemetry.stream);
# the files of the others are parsed whole, within `max_table_mib`.
STREAMED = frozenset({"billing", "telemetry"})


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    gzip_ratio: int
    line_bytes: int
    field_bytes: int
    document_bytes: int = 0  # a JSON document (0: no limit of its own)
    file_setting: str = "max_file_mib"  # the setting that gives file_bytes, named in messages

    @classmethod
    def of(cls, settings: Ingest, source: str | None = None) -> Limits:
        """The limits of a file of `source` (None: of any file, `max_file_mib` only)."""
        table = source is not None and source not in STREAMED and settings.max_table_mib < settings.max_file_mib
        return cls(
            (settings.max_table_mib if table else settings.max_file_mib) * MIB,
            settings.max_gzip_ratio,
            settings.max_line_mib * MIB,
            settings.max_field_mib * MIB,
            settings.max_document_mib * MIB,
            "max_table_mib" if table else "max_file_mib",
        )


@dataclass(frozen=True)
class Scan:
    checksum: str  # SHA-256 of the file's bytes, as delivered
    size: int  # bytes on disk
    mtime_ns: int
    problem: str | None  # the limit the file breaks (None: within every limit)
    content: int = 0  # bytes of content as the parsers see it (gzip: decompressed; Parquet: uncompressed pages)


def checksum(path: Path) -> str:
    """SHA-256 of a file, read a chunk at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(path: Path, limits: Limits, *, csv: bool, json_document: bool = False) -> Scan:
    """Checksum and limits of one file in one streaming pass. `csv`: measure CSV values (else
    lines only); `json_document`: content starting with `{` is one JSON document (a Prometheus
    answer), exempt from the line limit. Raises Moved if the file changes while it is read."""
    before = os.stat(path)
    digest = hashlib.sha256()
    content = _Content(limits, csv=csv, json_document=json_document)
    inflate: _Gunzip | None = None
    size, problem = 0, None
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if size == 0 and chunk[:2] == GZIP_MAGIC:
                inflate = _Gunzip(limits)
            size += len(chunk)
            if problem is None:  # after a breach the rest is only hashed
                problem = inflate.feed(chunk, content) if inflate is not None else content.feed(chunk)
    if problem is None:
        problem = inflate.finish() if inflate is not None else None
    measured = inflate.produced if inflate is not None else content.size
    if problem is None and inflate is None and content.kind == "parquet":
        problem, measured = _parquet(path, limits)
    after = os.stat(path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or size != after.st_size:
        raise Moved(f"changed while it was read ({before.st_size:,} bytes, then {after.st_size:,})")
    return Scan(digest.hexdigest(), size, before.st_mtime_ns, problem, measured)


def _mib(n: int) -> str:
    return f"{n // MIB:,} MiB" if n % MIB == 0 else f"{n:,} bytes"


class _Gunzip:
    """gzip members decompressed a chunk of output at a time, as gzip.decompress reads them
    (members one after another, zero padding between them)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.member: zlib._Decompress | None = zlib.decompressobj(wbits=31)
        self.consumed = 0  # compressed bytes fed so far
        self.produced = 0

    def feed(self, chunk: bytes, content: _Content) -> str | None:
        self.consumed += len(chunk)
        data = chunk
        while data:
            if self.member is None:  # between members: zero padding, then the next member's magic
                data = data.lstrip(b"\x00")
                if not data:
                    return None
                self.member = zlib.decompressobj(wbits=31)
            try:
                out = self.member.decompress(data, CHUNK)
                while True:
                    if out:
                        problem = self._count(len(out)) or content.feed(out)
                        if problem:
                            return problem
                    # at a member's end zlib still reports the input after it as unconsumed_tail
                    # (it is in unused_data too): decompressing it again would never end
                    if self.member.eof or not self.member.unconsumed_tail:
                        break
                    out = self.member.decompress(self.member.unconsumed_tail, CHUNK)
            except zlib.error as exc:
                return f"truncated or corrupt gzip data ({exc})"
            if self.member.eof:
                data = self.member.unused_data
                self.member = None
            else:
                data = b""
        return None

    def _count(self, n: int) -> str | None:
        self.produced += n
        if self.produced > self.limits.file_bytes:
            return (
                f"decompresses to more than {_mib(self.limits.file_bytes)} (ingest.{self.limits.file_setting}); "
                "not read further: raise the limit or split the export"
            )
        if self.produced > RATIO_FLOOR and self.produced > self.limits.gzip_ratio * self.consumed:
            return (
                f"gzip data expands more than {self.limits.gzip_ratio} times ({_mib(self.consumed)} to over "
                f"{_mib(self.produced)}; ingest.max_gzip_ratio): refused as a decompression bomb"
            )
        return None

    def finish(self) -> str | None:
        if self.member is not None and not self.member.eof:
            return "truncated or corrupt gzip data (Compressed file ended before the end-of-stream marker was reached)"
        return None


class _Content:
    """Lines and CSV values of the content, measured a chunk at a time; the first breach wins."""

    def __init__(self, limits: Limits, *, csv: bool, json_document: bool) -> None:
        self.limits = limits
        self.csv = csv
        self.json_document = json_document
        self.kind: str | None = None  # parquet, json or text: known from the first bytes
        self.size = 0
        self.lines = 0  # line ends seen
        self.line = 0  # bytes of the current line so far
        self.field = 0  # bytes of the current CSV value so far
        self.quoted = False  # inside a quoted CSV value

    def feed(self, chunk: bytes) -> str | None:
        if self.kind is None:
            head = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
            self.kind = "parquet" if chunk[:4] == b"PAR1" else "json" if head[:1] == b"{" else "text"
        self.size += len(chunk)
        if self.size > self.limits.file_bytes:
            return (
                f"larger than {_mib(self.limits.file_bytes)} (ingest.{self.limits.file_setting}): raise the limit or "
                "split the export"
            )
        if self.kind == "json" and self.json_document:
            if self.limits.document_bytes and self.size > self.limits.document_bytes:
                return (
                    f"a JSON document larger than {_mib(self.limits.document_bytes)} (ingest.max_document_mib): it is "
                    "parsed whole, so it is refused unread; split the query (a shorter range) or raise the limit"
                )
            return None
        if self.kind == "parquet":
            return None
        data = np.frombuffer(chunk, dtype=np.uint8)
        newlines = np.flatnonzero(data == _NEWLINE)
        problem = self._lines(newlines, len(data))
        if problem is None and self.csv and self.kind == "text":
            problem = self._fields(data, newlines)
        self.lines += len(newlines)
        return problem

    def _lines(self, newlines: np.ndarray, length: int) -> str | None:
        longest, k = _longest_run(newlines, self.line)
        self.line = self.line + length if not len(newlines) else length - int(newlines[-1]) - 1
        if longest > self.limits.line_bytes or self.line > self.limits.line_bytes:
            line = self.lines + (k if longest > self.limits.line_bytes else len(newlines)) + 1
            return (
                f"line {line:,} is longer than {_mib(self.limits.line_bytes)} (ingest.max_line_mib): "
                "refused unread; raise the limit if the export really has such lines"
            )
        return None

    def _fields(self, data: np.ndarray, newlines: np.ndarray) -> str | None:
        """CSV values: when every line end of the chunk is outside quotes and no line is longer
        than a value may be, every value closed by them fits, and only the bytes after the last
        line end are measured; else the whole chunk is."""
        quotes = np.flatnonzero(data == _QUOTE)
        limit = self.limits.field_bytes
        if (
            len(newlines)
            and self.field + int(newlines[0]) <= limit
            and (len(newlines) == 1 or int(np.diff(newlines).max()) - 1 <= limit)
        ):
            odd = (
                (np.searchsorted(quotes, newlines) & 1).astype(bool)
                if len(quotes)
                else np.zeros(len(newlines), dtype=bool)
            )
            if bool(np.all(odd == self.quoted)):
                last = int(newlines[-1]) + 1
                self.quoted, self.field = False, 0
                return self._values(data[last:], newlines[:0], self.lines + len(newlines) + 1)
        return self._values(data, newlines, self.lines + 1)

    def _values(self, data: np.ndarray, newlines: np.ndarray, line: int) -> str | None:
        """Every CSV value of `data` (whose first byte is on line `line`) measured exactly."""
        quotes = np.flatnonzero(data == _QUOTE)
        separators = np.flatnonzero((data == _COMMA) | (data == _NEWLINE))
        if len(quotes):  # a separator is outside quotes when the quotes before it leave the state as it began
            odd = (np.searchsorted(quotes, separators) & 1).astype(bool)
            ends = separators[odd == self.quoted]
            self.quoted ^= bool(len(quotes) & 1)
        else:
            ends = separators[:0] if self.quoted else separators
        longest, k = _longest_run(ends, self.field)
        self.field = self.field + len(data) if not len(ends) else len(data) - int(ends[-1]) - 1
        if longest > self.limits.field_bytes or self.field > self.limits.field_bytes:
            at = int(ends[k]) if longest > self.limits.field_bytes else len(data)
            line += int(np.searchsorted(newlines, at))
            return (
                f"a value on line {line:,} is longer than {_mib(self.limits.field_bytes)} (ingest.max_field_mib): "
                "refused unread; raise the limit if the export really has such values"
            )
        return None


def _longest_run(ends: np.ndarray, carried: int) -> tuple[int, int]:
    """(length, k): the longest run of bytes closed by a separator of this chunk (`ends`, their
    offsets), closed by ends[k]; the first run continues the `carried` bytes of earlier chunks.
    (0, 0) when the chunk has no separator."""
    if not len(ends):
        return 0, 0
    runs = np.diff(ends, prepend=-1) - 1
    runs[0] += carried
    k = int(np.argmax(runs))
    return int(runs[k]), k


def _parquet(path: Path, limits: Limits) -> tuple[str | None, int]:
    """A Parquet file's uncompressed size, from its footer, against the file limit: (the breach
    or None, the size; the file's own size when the footer cannot be read)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - not readable as Parquet: the parser says why
        return None, path.stat().st_size
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.file_bytes:
        limit = _mib(limits.file_bytes)
        return f"Parquet data of {_mib(size)} uncompressed, more than {limit} (ingest.{limits.file_setting})", size
    return None, size
