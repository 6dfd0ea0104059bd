"""Parsing ahead of the writer: while the one writer loads a file into the warehouse, parse threads
stage the files after it as bundles (the parse step, `pipeline.ingest.stage`, as the nightly DAG's
mapped parse tasks do), so a run with several new files keeps every core busy: the parse is mostly
Polars and the load DuckDB, which both work outside Python's lock.

The writer takes the files in its own order. When it reaches a file, the file's parse is done
(its bundle is used, as the DAG's are), running (the writer waits for it), or not started (the
writer takes it back and parses the file itself, so it never waits for an idle thread). A parse
thread never opens the warehouse. A parse that did not give a bundle of the file's rows (a file
rejected, changed while read, or a parse that raised) leaves nothing behind: the writer parses
that file itself, so what it reports and records is exactly what it would have alone.

One thread fewer than the cores this process may use, at most one per file after the first: none
on one core. `[ingest] parse_workers` sets the number (0: none)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from pipeline.ingest import bundle
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)


def workers(ws: Workspace, files: list[tuple[str, str]]) -> int:
    """How many threads parse ahead of the writer for `files` ((source, inbox-relative path))."""
    wanted = ws.config.ingest.parse_workers
    if wanted is None:
        wanted = len(os.sched_getaffinity(0)) - 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) - 1
    return max(0, min(wanted, len(files) - 1))


class ParseAhead:
    """Threads parsing `files` ((source, inbox-relative path), in the writer's order) with
    `parse(workspace root, source, relative, loaded=...)`, the parse step: `loaded`, the load ids
    whose bytes are in the warehouse, are not parsed again (say after a copy changed every file's
    status, not its bytes)."""

    def __init__(
        self,
        ws: Workspace,
        files: list[tuple[str, str]],
        parse: Callable[..., dict],
        *,
        loaded: Collection[str] = (),
    ) -> None:
        self._ws = ws
        self._futures: dict[str, Future[dict]] = {}
        self.outcomes: dict[str, str] = {}
        self.workers = workers(ws, files)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="parse-ahead") if self.workers else None
        if self._pool is not None:
            task = partial(parse, loaded=frozenset(loaded), report=False)
            for source, relative in files:
                self._futures[relative] = self._pool.submit(task, str(ws.root), source, relative)

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ready(self, relative: str) -> None:
        """Before the writer reads the file at `relative`: its bundle staged, or nothing (the file
        is the writer's to parse). `outcomes` records which: the worker's status (`parsed`,
        `loaded`: bytes in the warehouse already, `rejected`, `changed`, ...), or `writer`."""
        future = self._futures.pop(relative, None)
        if future is None:
            return
        if future.cancel():  # not started: the writer parses it rather than wait
            self.outcomes[relative] = "writer"
            return
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - a worker that failed leaves the file to the writer
            log.debug("%s: parse ahead failed; the writer parses it", relative, exc_info=exc)
            self.outcomes[relative] = "writer"
            return
        self.outcomes[relative] = outcome["status"]
        if outcome["status"] == "rejected":  # the writer parses it itself and reports it as it always does
            shutil.rmtree(bundle.root(self._ws) / outcome["load_id"], ignore_errors=True)

    def close(self) -> None:
        """Cancel the parses not started; wait for those running (each stages one file)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


__all__ = ["ParseAhead", "workers"]
