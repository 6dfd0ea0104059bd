"""The config's regular expressions are compiled by the engines that run them when the config is
read; a workspace remembers the ones accepted (work/accepted-patterns.json), so the next step's
process does not compile them again, while a refused one is refused every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import patterns
from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.workspace import CONFIG_FILE, DEFAULT_CONFIG, Workspace

POOL = '\n[[gpu_pools]]\nname = "p"\nnode_pattern = "gpu-node-[0-9]+"\ngpus_per_node = 8\n'


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The patterns compiled, by engine, in this process (the per-process caches emptied)."""
    seen: list[str] = []
    real_polars, real_duckdb = patterns._polars_problem.__wrapped__, patterns._duckdb_problem.__wrapped__

    def polars(pattern: str) -> str | None:
        seen.append(f"polars {pattern}")
        return real_polars(pattern)

    def duckdb(pattern: str) -> str | None:
        seen.append(f"duckdb {pattern}")
        return real_duckdb(pattern)

    monkeypatch.setattr(patterns, "_polars_problem", polars)
    monkeypatch.setattr(patterns, "_duckdb_problem", duckdb)
    return seen


def test_accepted_patterns_are_remembered_by_engine_version(
    tmp_path: Path, compiled: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=DEFAULT_CONFIG + POOL)
    memo = ws.root / "work" / "accepted-patterns.json"
    assert ws.config.gpu_pools[0].node_pattern == "gpu-node-[0-9]+"
    assert "polars gpu-node-[0-9]+" in compiled and "duckdb gpu-node-[0-9]+" in compiled
    remembered = json.loads(memo.read_text())
    # one digest per (engine, version, pattern) the config holds, each engine's: at least the pool's two
    assert len(remembered) == len(compiled) >= 2

    compiled.clear()
    assert Workspace.open(ws.root).config.gpu_pools[0].node_pattern == "gpu-node-[0-9]+"  # the next step
    assert compiled == []

    monkeypatch.setattr(patterns, "_version", lambda engine: "another version")  # an upgraded engine
    Workspace.open(ws.root).config  # noqa: B018
    assert "polars gpu-node-[0-9]+" in compiled and "duckdb gpu-node-[0-9]+" in compiled


def test_a_refused_pattern_is_refused_every_time(tmp_path: Path, compiled: list[str]) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=DEFAULT_CONFIG + POOL)
    ws.config  # noqa: B018  (the accepted ones remembered)
    bad = POOL.replace("gpu-node-[0-9]+", "(box)-\\\\1")  # a backreference: Polars refuses it
    (ws.root / CONFIG_FILE).write_text(DEFAULT_CONFIG + bad)
    for _ in range(2):
        with pytest.raises(ConfigError, match="bad regular expression.*backreferences"):
            Workspace.open(ws.root).config  # noqa: B018


def test_an_unreadable_or_unwritable_memo_only_means_compiling(tmp_path: Path, compiled: list[str]) -> None:
    config = tmp_path / CONFIG_FILE
    config.write_text(DEFAULT_CONFIG + POOL)
    broken = tmp_path / "memo.json"
    broken.write_text("{not json")
    load_config(config, accepted=broken)
    assert "polars gpu-node-[0-9]+" in compiled
    assert "gpu-node" not in broken.read_text()  # digests only, never the patterns
    blocked = tmp_path / "a-file" / "memo.json"  # its folder cannot be made: a file is in the way
    (tmp_path / "a-file").write_text("")
    compiled.clear()
    load_config(config, accepted=blocked)
    assert "polars gpu-node-[0-9]+" in compiled
    compiled.clear()
    load_config(config)  # no memo at all (a config outside a workspace)
    assert "polars gpu-node-[0-9]+" in compiled
