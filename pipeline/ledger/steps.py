"""What the last ledger build did: the time each step took (`PROFILE`, for the benchmark's
profile and the log) and how many rows it routed, split and wrote (`COUNTS`)."""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("pipeline.ledger.build")
PROFILE: list[tuple[str, float]] = []  # (step, seconds) of the last build
COUNTS: dict[str, int] = {}  # what the last build routed, split and wrote (rows)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time one step of the build into PROFILE (and the log)."""
    began = clock.perf_counter()
    try:
        yield
    finally:
        PROFILE.append((name, clock.perf_counter() - began))
        log.info("build step %s: %.2f s", name, PROFILE[-1][1])


def count(name: str, rows: int) -> int:
    """Add `rows` to COUNTS[name]; return `rows`."""
    COUNTS[name] = COUNTS.get(name, 0) + rows
    return rows
