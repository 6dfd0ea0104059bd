"""Pulling exports from object storage: each `[[remote_sources]]` folder (s3://, gs://, abfs://,
file://) is listed through Airflow's ObjectStoragePath, so credentials come from the Airflow
connection it names, and its new or changed objects are copied into inbox/<source>/<folder>/.

The pull never opens the warehouse: any number of pulls can run at once (the nightly DAG maps one
task per remote source), and the one writer, `ingest`, loads what they landed. What was pulled is
kept beside the files in a manifest (`.pulled.json`, hidden, so ingest skips it): object key ->
version (ETag, MD5 or size and time), SHA-256 of the bytes landed. An object whose version is
unchanged and whose file is still in the inbox is not fetched again. An object deleted from the
store stays in the inbox (the ledger already holds it); a changed one overwrites its file, which
ingest then treats as a restatement of that file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pipeline.columns import SOURCES
from pipeline.config import RemoteSource
from pipeline.errors import ConfigError, CostLedgerError
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

MANIFEST = ".pulled.json"
CHUNK = 8 * 1024 * 1024
# Keys of an fsspec `info()` answer that identify one version of an object, most specific first:
# S3 and Azure ETag, GCS md5Hash / crc32c.
_VERSION_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "content_md5")


@dataclass(frozen=True)
class RemoteObject:
    key: str  # path below the remote source's URI, '/'-separated
    version: str
    size: int


@dataclass
class PullResult:
    source: str
    folder: str
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _ws(workspace: Path | str | Workspace) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)


def remote(workspace: Path | str | Workspace, source: str, folder: str) -> RemoteSource:
    """The `[[remote_sources]]` entry that pulls into inbox/<source>/<folder>/."""
    for entry in _ws(workspace).config.remote_sources:
        if (entry.source, entry.folder) == (source, folder):
            return entry
    raise ConfigError(f"no [[remote_sources]] entry pulls into inbox/{source}/{folder}/")


def _root(entry: RemoteSource) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    try:
        root = ObjectStoragePath(entry.uri, conn_id=entry.conn_id)
        root.fs  # noqa: B018  (resolves the scheme's filesystem and the connection now)
    except ValueError as exc:
        if "No filesystem registered" in str(exc):
            raise ConfigError(
                f"remote source {entry.uri}: no filesystem for this scheme; install its Airflow provider "
                "(s3: apache-airflow-providers-amazon[s3fs], gs: apache-airflow-providers-google, "
                "abfs: apache-airflow-providers-microsoft-azure)"
            ) from None
        raise
    return root


def _version(info: dict) -> str:
    for key in _VERSION_KEYS:
        if info.get(key):
            return f"{key}:{str(info[key]).strip(chr(34))}"
    when = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or info.get("updated")
    return f"size:{info.get('size')};time:{when}"


def _relative(name: str, root_path: str) -> str | None:
    """The object's key below the root, or None for a key that must not become an inbox file."""
    path, root = PurePosixPath("/" + name.lstrip("/")), PurePosixPath("/" + root_path.lstrip("/"))
    relative = PurePosixPath(path.name) if path == root else path.relative_to(root)
    parts = relative.parts
    if not parts or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    return relative.as_posix()


def list_objects(entry: RemoteSource) -> list[RemoteObject]:
    """Every object below the entry's URI, sorted by key (one listing call per store page)."""
    root = _root(entry)
    root.fs.invalidate_cache()  # listings are cached per process: a long-lived worker must see tonight's objects
    found = root.fs.find(root.path, detail=True)
    objects = []
    for name, info in sorted(found.items()):
        if info.get("type", "file") != "file":
            continue
        key = _relative(name, root.path)
        if key is None:
            log.warning("%s: skipping object %r (hidden or not a plain relative key)", entry.uri, name)
            continue
        objects.append(RemoteObject(key=key, version=_version(info), size=int(info.get("size") or 0)))
    return objects


def _folder(ws: Workspace, entry: RemoteSource) -> Path:
    """inbox/<source>/<folder>/, refused when a link takes it out of the workspace (the pull
    would write there)."""
    folder = ws.inbox / entry.source / entry.folder
    if not folder.resolve().is_relative_to(ws.root.resolve()):
        raise ConfigError(
            f"remote source {entry.uri}: its inbox folder inbox/{entry.source}/{entry.folder} resolves to "
            f"{folder.resolve()}, outside the workspace {ws.root.resolve()}; not written"
        )
    return folder


def _read_manifest(folder: Path) -> dict[str, dict]:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise CostLedgerError(
            f"{folder / MANIFEST}: unreadable pull manifest ({exc}); delete it to pull everything again"
        ) from None


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    os.replace(partial, path)


def landed(path: Path) -> bool:
    """True when `path` is a file exactly as a pull landed it (renamed into place whole: it needs
    no settle time), by the size and modification time its folder's manifest recorded."""
    for folder in path.parents:
        try:
            entries = _read_manifest(folder) if (folder / MANIFEST).is_file() else {}
        except CostLedgerError:  # unreadable: the next pull says so; until then the file settles like any other
            return False
        entry = entries.get(path.relative_to(folder).as_posix()) if isinstance(entries, dict) else None
        if isinstance(entry, dict):
            stat = path.stat()
            return entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns
        if folder.name == "inbox":
            break
    return False


def changed_objects(
    workspace: Path | str | Workspace, entry: RemoteSource, listed: list[RemoteObject] | None = None
) -> list[RemoteObject]:
    """The entry's objects (listed now unless given) that are new, changed, or missing from the inbox."""
    folder = _folder(_ws(workspace), entry)
    manifest = _read_manifest(folder)
    return [
        obj
        for obj in (list_objects(entry) if listed is None else listed)
        if manifest.get(obj.key, {}).get("version") != obj.version or not (folder / obj.key).is_file()
    ]


def pull_objects(workspace: Path | str | Workspace, entry: RemoteSource, objects: list[RemoteObject]) -> list[str]:
    """Copy the objects into inbox/<source>/<folder>/, each through a hidden partial file renamed
    into place, then record them in the manifest; return the inbox paths written."""
    ws = _ws(workspace)
    folder = _folder(ws, entry)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(folder)
    root = _root(entry)
    written = []
    for obj in objects:
        target = folder / obj.key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        digest = hashlib.sha256()
        with (root / obj.key).open("rb") as remote_file, partial.open("wb") as local_file:
            while chunk := remote_file.read(CHUNK):
                digest.update(chunk)
                local_file.write(chunk)
        if (got := partial.stat().st_size) != obj.size:  # replaced while we read it: retry later
            partial.unlink()
            raise OSError(f"{entry.uri} {obj.key}: read {got} bytes but the listing said {obj.size}")
        os.replace(partial, target)
        landed = target.stat()  # its size and time say it is the file as landed (complete: see `landed`)
        manifest[obj.key] = {
            "version": obj.version,
            "sha256": digest.hexdigest(),
            "size": obj.size,
            "mtime_ns": landed.st_mtime_ns,
        }
        _write_atomically(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        written.append(target.relative_to(ws.inbox).as_posix())
        log.info("pulled %s -> inbox/%s", obj.key, written[-1])
    return written


def find_exports(workspace: Path | str | Workspace, *, source: str | None = None) -> list[dict]:
    """One batch per remote source with something new: {source, folder, keys}; only those of
    `source` (billing, telemetry, ...) when given. What the nightly DAG maps its pull tasks over
    (small: keys only, no data)."""
    if source is not None and source not in SOURCES:
        raise ConfigError(f"source {source!r}: expected one of {list(SOURCES)}")
    ws = _ws(workspace)
    batches = []
    for entry in ws.config.remote_sources:
        if source is not None and entry.source != source:
            continue
        changed = changed_objects(ws, entry)
        log.info("%s: %d new or changed objects", entry.uri, len(changed))
        if changed:
            batches.append({"source": entry.source, "folder": entry.folder, "keys": [obj.key for obj in changed]})
    return batches


def pull_batch(workspace: Path | str | Workspace, batch: dict) -> list[str]:
    """Pull one batch from find_exports (listing again, so versions are current)."""
    ws = _ws(workspace)
    entry = remote(ws, batch["source"], batch["folder"])
    wanted = set(batch["keys"])
    return pull_objects(ws, entry, [obj for obj in changed_objects(ws, entry) if obj.key in wanted])


def pull(workspace: Path | str | Workspace) -> list[PullResult]:
    """Pull every remote source of the workspace (what `costledger pull` does)."""
    ws = _ws(workspace)
    results = []
    for entry in ws.config.remote_sources:
        listed = list_objects(entry)
        changed = changed_objects(ws, entry, listed)
        keys = {obj.key for obj in changed}
        result = PullResult(entry.source, entry.folder, unchanged=[o.key for o in listed if o.key not in keys])
        result.copied = pull_objects(ws, entry, changed)
        results.append(result)
    return results
