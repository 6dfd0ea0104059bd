"""Named checkpoints where a test may kill the process, to prove a crash never corrupts anything.

`COSTLEDGER_CRASH_AT=<name>:<n>` makes the process SIGKILL itself the n-th time (from 1) it
reaches the checkpoint `<name>`; `COSTLEDGER_CRASH_TRACE=<file>` appends each checkpoint's name to
the file as it is reached (how the crash test lists every point of a run). Unset, both cost one
dictionary lookup. Checkpoints: `step.<command>` (a step starts), `file` (before each inbox file),
`commit` and `committed` (around every warehouse COMMIT), `publish` (inside the publish
transaction, before its COMMIT).
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CRASH_AT = "COSTLEDGER_CRASH_AT"
CRASH_TRACE = "COSTLEDGER_CRASH_TRACE"
_reached: Counter[str] = Counter()


def point(name: str) -> None:
    """A place where a crash must be harmless."""
    trace = os.environ.get(CRASH_TRACE)
    if trace:
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(name + "\n")
    target = os.environ.get(CRASH_AT)
    if not target:
        return
    _reached[name] += 1
    if target == f"{name}:{_reached[name]}":
        os.kill(os.getpid(), signal.SIGKILL)
