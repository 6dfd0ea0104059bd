from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")


@pytest.fixture(scope="session")
def demo_estate(tmp_path_factory: pytest.TempPathFactory):
    """The generated 3-month estate, run end to end once for the session."""
    from pipeline import run
    from pipeline.generator import generate_estate

    mp = pytest.MonkeyPatch()
    mp.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-not-a-secret-0123456789")
    estate = generate_estate(tmp_path_factory.mktemp("estate") / "ws", seed=7)
    run.run(estate.root, date=estate.as_of)
    yield estate
    mp.undo()


def samples_or_skip(*parts: str) -> Path:
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared samples folder is not beside the project)")
    return path
