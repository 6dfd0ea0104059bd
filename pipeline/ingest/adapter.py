"""The one interface every input format implements, and the registry that finds a file's format.

An adapter knows one format of one source (billing or telemetry): how to recognise it from the start
of a file and how to read it into staging rows. Each format is one module of its source's package
(`pipeline/ingest/billing/`, `pipeline/ingest/telemetry/`) that defines `ADAPTER`; the registry
imports every module of the package and asks the adapters in `order`, so adding a format is adding
one file.

    ADAPTER = Adapter(
        name="Oracle Cloud cost report",        # shown in messages and recorded in meta.loads
        order=20,                               # lower is asked first (more specific formats first)
        signature=NATIVE_COST,                  # the columns that identify it, for "closest format"
        detect=detect,                          # Head -> the layout's name, or None
        read=read,                              # (path, content, config) -> Parsed
    )

What an adapter reads (`content`) is the source's: billing adapters get the file (or a chunk of it)
as an all-text frame with row numbers, whatever its container (CSV, JSON lines, Parquet); telemetry
adapters get the file's bytes, since their containers differ (exposition text, JSON answers, CSV).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Generic, TypeVar

from pipeline.config import Config
from pipeline.ingest.parse import Parsed

Content = TypeVar("Content")


@dataclass(frozen=True)
class Head:
    """What detection sees of a file: its column names when it is tabular (CSV header, JSON-lines
    keys, Parquet columns), and the decoded start of its text (empty for Parquet)."""

    columns: tuple[str, ...] = ()
    text: str = ""

    @property
    def first_line(self) -> str:
        """The first non-blank line of the text, without its line end."""
        return self.text.lstrip().split("\n", 1)[0].strip("\r")


@dataclass(frozen=True)
class Adapter(Generic[Content]):
    """One input format: how to recognise it and how to read it."""

    name: str
    order: int
    detect: Callable[[Head], str | None]
    read: Callable[[Path, Content, Config], Parsed]
    signature: tuple[str, ...] = ()
    describes: str = ""  # the layouts it reads, for messages naming the known formats (default: `name`)
    # a format whose layouts are told apart by different columns names each, for "closest format"
    # (default: `name` and `signature`)
    layouts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def description(self) -> str:
        """What the adapter reads, as a message lists it."""
        return self.describes or self.name

    @property
    def signatures(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each (layout name, the columns that identify it), for the "closest format" message."""
        if self.layouts:
            return self.layouts
        return ((self.name, self.signature),) if self.signature else ()


@functools.cache
def discover(package: ModuleType) -> tuple[Adapter, ...]:
    """Every `ADAPTER` defined by a module of `package`, in `order` (then name, so ties are stable);
    found once per process (detection asks for them for every file and chunk)."""
    found: list[Adapter] = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if isinstance(adapter, Adapter):
            found.append(adapter)
    return tuple(sorted(found, key=lambda adapter: (adapter.order, adapter.name)))


def first_match(adapters: Sequence[Adapter[Content]], head: Head) -> tuple[Adapter[Content], str] | None:
    """The first adapter that recognises `head`, with the layout it named; None when none does."""
    for adapter in adapters:
        layout = adapter.detect(head)
        if layout is not None:
            return adapter, layout
    return None
