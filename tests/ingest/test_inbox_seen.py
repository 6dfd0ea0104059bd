"""A run reads only the inbox files that are new or changed: a file whose status (size, times,
inode) is the one recorded when it was read, and that had not changed within RACY_NS of that
read, is known by its recorded checksum. A write that keeps the size and modification time still
changes the status change time, so the file is read and its new version loads."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from pipeline import run, warehouse
from pipeline.ingest import limits, pending, seen
from pipeline.workspace import Workspace
from tests.ledger.test_billing_parts_kept import _usage, _write
from tests.ledger.test_tax_pool import CONFIG_TOML


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each file's bytes were read (checksum or scan), by file name."""
    counts: Counter[str] = Counter()
    real_scan, real_checksum = limits.scan, limits.checksum

    def scan(path: Path, *args, **kwargs):
        counts[path.name] += 1
        return real_scan(path, *args, **kwargs)

    def checksum(path: Path) -> str:
        counts[path.name] += 1
        return real_checksum(path)

    monkeypatch.setattr(limits, "scan", scan)
    monkeypatch.setattr(limits, "checksum", checksum)
    return counts


def _loads(ws: Workspace) -> list[tuple[str, str]]:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute("select path, status from meta.loads order by loaded_at, load_id").fetchall()


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, reads: Counter[str], monkeypatch) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    _write(ws, "jan-05.csv", [_usage(5, "search", "30.00")])
    run.ingest(ws, settle_seconds=0)
    assert reads["jan-05.csv"] == 1  # the writer's one streaming pass: checksum and limits
    monkeypatch.setattr(seen, "RACY_NS", 0)  # the file was written a moment ago: see the racy test below

    reads.clear()
    assert pending(ws, settle_seconds=0) == []  # the parse step: nothing new, and nothing read
    run.ingest(ws, settle_seconds=0)
    assert reads["jan-05.csv"] == 0
    assert _loads(ws) == [("billing/jan-05.csv", "loaded")]

    # rewritten in place with the same size and modification time: its status change time moved
    path = ws.inbox / "billing" / "jan-05.csv"
    before = path.stat()
    path.write_text(path.read_text().replace("30.00", "31.00"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    reads.clear()
    assert [item["path"] for item in pending(ws, settle_seconds=0)] == ["billing/jan-05.csv"]
    run.ingest(ws, settle_seconds=0)
    assert reads["jan-05.csv"] == 2  # the parse step's checksum, the writer's pass
    assert _loads(ws) == [("billing/jan-05.csv", "superseded"), ("billing/jan-05.csv", "loaded")]


def test_a_file_read_within_racy_ns_of_its_last_change_is_read_again(tmp_path: Path, reads: Counter[str]) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    _write(ws, "jan-05.csv", [_usage(5, "search", "30.00")])
    run.ingest(ws, settle_seconds=0)
    reads.clear()
    # read less than RACY_NS (2 s) after it was written: a write in the same clock tick could
    # have left its status as it was, so its bytes are read again (and found the same)
    run.ingest(ws, settle_seconds=0)
    assert reads["jan-05.csv"] == 1
    assert _loads(ws) == [("billing/jan-05.csv", "loaded")]


def test_a_rejected_file_is_read_again(tmp_path: Path, reads: Counter[str], monkeypatch) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    (ws.inbox / "billing" / "broken.csv").write_text("not,a,bill\n1,2,3\n", encoding="utf-8")
    run.ingest(ws, settle_seconds=0)
    monkeypatch.setattr(seen, "RACY_NS", 0)
    reads.clear()
    run.ingest(ws, settle_seconds=0)
    assert reads["broken.csv"] == 1  # not recorded as read: a rejected file is tried at every run
    assert _loads(ws) == [("billing/broken.csv", "rejected")]
