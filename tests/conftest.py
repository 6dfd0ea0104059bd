from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
# CI sets this (.ci/run): there the shared samples must be present, and a test that needs them
# fails instead of skipping. In a user's clone without ../shared they skip, saying why.
REQUIRE_SAMPLES = os.environ.get("COSTLEDGER_REQUIRE_SAMPLES") == "1"
# Files a test writes are complete: read them at once, in this process and in the CLI processes
# tests start (the default settle time, 60 s, is for files still being copied into an inbox).
# Tests of the settle time itself set it back.
os.environ.setdefault("COSTLEDGER_SETTLE_SECONDS", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with slow tests first (each file's tests stay together and in order): `make test` hands
    whole files to its workers in this order, so the long ones start early and no worker is left
    running one alone at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")


@pytest.fixture(scope="session")
def demo_estate(tmp_path_factory: pytest.TempPathFactory):
    """The generated 3-month estate, run end to end once for the session."""
    from pipeline import run
    from pipeline.generators.demo import generate_estate

    mp = pytest.MonkeyPatch()
    mp.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")
    estate = generate_estate(tmp_path_factory.mktemp("estate") / "ws", seed=7)
    run.run(estate.root, date=estate.as_of)
    yield estate
    mp.undo()


def samples_or_skip(*parts: str) -> Path:
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        if REQUIRE_SAMPLES:
            pytest.fail(f"{path} is absent, and COSTLEDGER_REQUIRE_SAMPLES=1 says it must be there")
        pytest.skip(f"{path} is absent (the shared samples folder is not beside the project)")
    return path


# The progress lines of `run` (pipeline.progress): phases, "[i/n] ..." items and the summary.
PROGRESS_LINE = re.compile(
    r"loading inbox files \(\d+\)|building, validating and publishing periods \(\d+\)|\[\d+/\d+\] .*|run done: .*"
)


def without_progress(output: str) -> list[str]:
    """The lines of a command's output, its progress lines left out (tests/test_progress.py
    checks those)."""
    return [line for line in output.strip().splitlines() if not PROGRESS_LINE.fullmatch(line)]


def read_warehouse(ws: Path) -> duckdb.DuckDBPyConnection:
    """The workspace's warehouse, read-only, as DuckDB started in the workspace folder opens it:
    raw.source_rows finds the raw layer's files under raw/ there (a test reads its own files too)."""
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    con.execute("set file_search_path = ?", [str(ws)])
    return con
