"""Multi-part billing exports: a manifest lists the parts; an export with a part missing loads
none of its parts (a partial month would understate cost), and says which part is missing. The
parts of a complete export load as parts, never as versions of one another (see restate.py), and
wait together while any of them is still being written.

Manifests are detected from their content: a JSON object with `reportKeys` (AWS legacy CUR),
`dataFiles` (AWS Data Exports, CUR 2.0) or `blobs` (Azure cost exports, `blobName` each). Parts
are matched by file name among the files delivered to the same source folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMAT = "billing-manifest"


@dataclass(frozen=True)
class Export:
    """A complete multi-part export: its manifest and the files its parts were matched to."""

    manifest: Path
    parts: tuple[Path, ...]


@dataclass(frozen=True)
class Verdict:
    status: str  # "loaded" (a complete manifest) or "rejected" (a manifest or part of an incomplete export)
    message: str


def parts(path: Path) -> list[str] | None:
    """File names a manifest lists, or None if the file is not a manifest."""
    try:
        if path.stat().st_size > 10_000_000 or path.read_bytes()[:1] != b"{":
            return None
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):  # not a manifest; the file's own reader says what it is
        return None
    if not isinstance(document, dict):
        return None
    entries = document.get("reportKeys") or document.get("dataFiles") or document.get("blobs")
    if not isinstance(entries, list):
        return None
    names = [e.get("blobName") if isinstance(e, dict) else e for e in entries]
    return [PurePosixPath(str(n).split("?")[0]).name for n in names if n]


def verdicts(files: list[Path], inbox: Path) -> dict[Path, Verdict]:
    """Manifests and the parts of incomplete exports among `files`, with what to record for each."""
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.name, []).append(path)
    found: dict[Path, Verdict] = {}
    for path in files:
        listed = parts(path)
        if listed is None:
            continue
        where = path.relative_to(inbox).as_posix()
        missing = [(n, name) for n, name in enumerate(listed, start=1) if name not in by_name]
        if not missing:
            found[path] = Verdict("loaded", f"manifest of a {len(listed)}-part export: every part is present")
            continue
        number, name = missing[0]
        message = (
            f"multi-part export incomplete: part {number} of {len(listed)} ({name}) listed in {where} is missing"
            + (f", and {len(missing) - 1} more" if len(missing) > 1 else "")
            + "; none of its parts was loaded (they load when the missing part arrives)"
        )
        found[path] = Verdict("rejected", message)
        for present in listed:
            for part in by_name.get(present, []):
                found[part] = Verdict("rejected", message)
    return found


def exports(files: list[Path]) -> dict[Path, Export]:
    """Each part of a complete multi-part export among `files`, with its export (matched by file
    name, as `verdicts` matches them)."""
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.name, []).append(path)
    found: dict[Path, Export] = {}
    for path in files:
        listed = parts(path)
        if not listed or any(name not in by_name for name in listed):
            continue
        export = Export(path, tuple(part for name in dict.fromkeys(listed) for part in by_name[name]))
        for part in export.parts:
            found.setdefault(part, export)
    return found
