"""Parsed-file bundles: what the parse step hands the one writer.

The nightly DAG parses new files in parallel (tasks that never open the warehouse) and stages
each result under `<workspace>/work/parsed/<load_id>/`: rows.parquet (typed staging rows),
raw.parquet (the rows as delivered), rejects.parquet (quarantined rows) and meta.json (format,
counts, notes, periods, the file's checksum and path, or the message if the file was rejected).
A file parsed in chunks (pipeline.ingest.chunked) stages each part as several files, one or more
per chunk (rows-00001.parquet, rows-00002.parquet, ...; meta.json says `"chunks": n`), which the
writer inserts one file at a time. The writer uses a bundle only if it was made from the same
bytes (full SHA-256) by the same parser and configuration; otherwise it parses the file itself,
as the CLI does. A bundle is
deleted once the writer has committed it; leftovers are swept by the next writer.

HR files are never staged here: the work folder is shared, HR rows live only in the restricted
database, so the writer parses them itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from pipeline.ingest.parse import REJECT_SCHEMA, ROW, Parsed
from pipeline.workspace import Workspace

PARTS = ("rows", "raw", "rejects")
META = "meta.json"
# Sources the parse step never stages (their rows must not leave the restricted database).
NOT_STAGED = frozenset({"labor"})
# A temporary folder older than this is a parse task that died mid-write.
ABANDONED_SECONDS = 3600
_CODE = Path(__file__).resolve().parent


def root(ws: Workspace) -> Path:
    return ws.root / "work" / "parsed"


@lru_cache(maxsize=1)
def parser_digest() -> str:
    """A digest of the code and rules that turn a file into rows: a bundle made by other code
    (a deployment half upgraded) is not used."""
    digest = hashlib.sha256()
    files = (
        sorted(_CODE.rglob("*.py"))  # the format packages (billing/, ...) too
        + sorted((_CODE.parent / "rules").glob("*.csv"))
        + [_CODE.parent / "money.py", _CODE.parent / "columns.py"]
    )
    for path in files:
        digest.update(path.relative_to(_CODE.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def config_digest(ws: Workspace) -> str:
    """The parsed configuration (telemetry step, bad-row policy, ...), not its comments."""
    return hashlib.sha256(ws.config.model_dump_json().encode()).hexdigest()


def read(path: Path | str) -> pl.DataFrame:
    """One Parquet file the parse step wrote, read by its path alone: Polars would take the path
    for a glob pattern, and a `[1]` in a workspace or file name for a class of characters."""
    return pl.read_parquet(path, glob=False)


@dataclass(frozen=True)
class Bundle:
    folder: Path
    meta: dict

    @property
    def error(self) -> str | None:
        return self.meta.get("error")

    @property
    def chunked(self) -> bool:
        return bool(self.meta.get("chunks"))

    def part(self, name: str) -> str:
        """The part's file, or for a chunked bundle a glob of its files (read_parquet takes either)."""
        return str(self.folder / (f"{name}-*.parquet" if self.chunked else f"{name}.parquet"))

    def files(self, name: str) -> list[Path]:
        """The part's files, in row order."""
        return sorted(self.folder.glob(f"{name}-*.parquet")) if self.chunked else [self.folder / f"{name}.parquet"]

    def rejects(self) -> pl.DataFrame:
        return read(self.part("rejects")).cast(REJECT_SCHEMA)


class Chunks:
    """A bundle written a chunk at a time (pipeline.ingest.chunked), in a temporary folder that
    `commit` renames into place (a writer never sees half a bundle) or `abort` deletes."""

    def __init__(self, ws: Workspace, load_id: str, *, source: str, relative: str, checksum: str) -> None:
        if source in NOT_STAGED:
            raise ValueError(f"{source} files are never staged to the shared work folder")
        self.ws, self.load_id = ws, load_id
        self.meta = {
            "load_id": load_id,
            "source": source,
            "path": relative,
            "checksum": checksum,
            "parser": parser_digest(),
            "config": config_digest(ws),
            "error": None,
        }
        self.folder = root(ws) / f".tmp-{load_id}-{uuid.uuid4().hex[:8]}"
        self.folder.mkdir(parents=True)

    def path(self, name: str, index: int, suffix: str = "") -> Path:
        return self.folder / f"{name}-{index:05d}{suffix}.parquet"

    def add(self, index: int, parsed: Parsed, checked: pl.DataFrame) -> None:
        """Chunk `index`: its typed rows, raw rows and the rejects of its parse; `checked`, the rows
        the row checks rejected (kept apart: an exact duplicate's reason takes their place)."""
        # read once, by the writer, soon: written fast (no compression, no statistics) rather than small
        parsed.rows.write_parquet(self.path("rows", index), compression="uncompressed", statistics=False)
        # kept: the writer moves it into the raw layer as it is (see pipeline.ingest.raw_store)
        parsed.raw.write_parquet(self.path("raw", index))
        parsed.rejects.cast(REJECT_SCHEMA).write_parquet(self.path("rejects", index))
        checked.cast(REJECT_SCHEMA).write_parquet(self.path("rejects", index, "-checks"))

    def commit(self, meta: dict, chunks: int) -> Bundle:
        self.meta |= meta | {"chunks": chunks}
        (self.folder / META).write_text(json.dumps(self.meta, indent=1), encoding="utf-8")
        target = root(self.ws) / self.load_id
        shutil.rmtree(target, ignore_errors=True)
        self.folder.rename(target)
        return Bundle(target, self.meta)

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def write(
    ws: Workspace,
    load_id: str,
    *,
    source: str,
    relative: str,
    checksum: str,
    parsed: Parsed | None = None,
    periods: set[str] | None = None,
    error: str | None = None,
    rejects: pl.DataFrame | None = None,
) -> Path:
    """Stage one file's parse (or its rejection, with the bad rows known) atomically: written to a
    temporary folder, then renamed, so a writer never sees half a bundle."""
    if source in NOT_STAGED:
        raise ValueError(f"{source} files are never staged to the shared work folder")
    base = root(ws)
    temporary = base / f".tmp-{load_id}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir(parents=True)
    meta: dict[str, object] = {
        "load_id": load_id,
        "source": source,
        "path": relative,
        "checksum": checksum,
        "parser": parser_digest(),
        "config": config_digest(ws),
        "error": error,
    }
    if parsed is not None:
        # rows: read once, by the writer, soon (as a chunk's, see ChunkWriter); raw: kept in the
        # raw layer, so compressed
        parsed.rows.write_parquet(temporary / "rows.parquet", compression="uncompressed", statistics=False)
        parsed.raw.write_parquet(temporary / "raw.parquet")
        rejects = parsed.rejects
        meta |= {
            "format": parsed.format,
            "rows_in": parsed.rows_in,
            "rows_loaded": parsed.rows_loaded,
            "rows_quarantined": parsed.rows_quarantined,
            "notes": list(parsed.notes),
            "periods": sorted(periods or ()),
            "staged_rows": parsed.rows.get_column(ROW).n_unique(),
        }
    (rejects if rejects is not None else pl.DataFrame(schema=REJECT_SCHEMA)).cast(REJECT_SCHEMA).write_parquet(
        temporary / "rejects.parquet"
    )
    (temporary / META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    target = base / load_id
    shutil.rmtree(target, ignore_errors=True)  # an older bundle of the same bytes (another parser)
    temporary.rename(target)
    return target


def find(ws: Workspace, load_id: str, checksum: str) -> Bundle | None:
    """The bundle of exactly these bytes, made by this parser and configuration, or None."""
    folder = root(ws) / load_id
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (meta.get("checksum"), meta.get("parser"), meta.get("config")) != (checksum, parser_digest(), config_digest(ws)):
        return None
    needed = ("rejects",) if meta.get("error") else PARTS
    found = Bundle(folder, meta)
    if not all(path.is_file() for name in needed for path in found.files(name)):
        return None
    if found.chunked and not all(len(found.files(name)) >= meta["chunks"] for name in needed):
        return None
    return found


def staged_paths(ws: Workspace) -> set[str]:
    """The inbox paths that have a bundle (made by a parse step), valid or not."""
    found = set()
    base = root(ws)
    for meta in base.glob(f"*/{META}") if base.is_dir() else ():
        try:
            found.add(json.loads(meta.read_text(encoding="utf-8"))["path"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def discard(bundle: Bundle) -> None:
    """Remove a bundle the writer has committed."""
    shutil.rmtree(bundle.folder, ignore_errors=True)


def sweep(ws: Workspace, *, before: float) -> None:
    """Remove the bundles made before `before` (a writer that started then has seen them: they are
    stale, or their files were already loaded) and temporary folders of dead parse tasks."""
    base = root(ws)
    if not base.is_dir():
        return
    for folder in base.iterdir():
        made = folder.stat().st_mtime
        if folder.name.startswith(".tmp-"):
            if made < time.time() - ABANDONED_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        elif made < before:
            shutil.rmtree(folder, ignore_errors=True)
