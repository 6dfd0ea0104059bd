"""Regular expressions from the configuration: checked, when the config is read, by the engines
that will run them, and run only on linear-time engines.

- Polars (Rust `regex`) runs the attribution rules, workload rules, GPU and shared pool patterns
  on billing and telemetry rows, as a full match (`full`), and matches nvidia-smi log paths
  (`search`). Rust's engine has no look-around or backreferences, and runs in time linear in the
  text: a pattern like `(a+)+$` cannot take exponential time on a file name.
- DuckDB (RE2, `regexp_full_match`) runs the workload and GPU pool patterns again in the marts
  (`sql/marts/gpu_efficiency.sql`) and in the report's recommendations.
A pattern one of its engines refuses is a config error naming the key; nothing fails at run time.

Compiling them takes a fresh process about 0.15 s (importing Polars, opening DuckDB), at every
step that reads the config. Within `remembered(file)` (the workspace's config is read so), a
pattern an engine of the same version accepted before is not compiled again: the file keeps a
digest of each (engine, version, pattern) accepted.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

POLARS = "Polars (Rust regex)"
DUCKDB = "DuckDB (RE2)"
_lock = threading.Lock()
_connections: dict[str, Any] = {}
_accepted: ContextVar[set[str] | None] = ContextVar("accepted patterns", default=None)


def full(pattern: str) -> str:
    """The pattern as Polars runs it for a full match."""
    return f"^(?:{pattern})$"


def check(pattern: str, *engines: str) -> str:
    """`pattern` if every engine in `engines` (POLARS, DUCKDB) compiles it as it will run it;
    else ValueError saying which engine refused it and why."""
    accepted = _accepted.get()
    for engine in engines:
        digest = _digest(engine, pattern)
        if accepted is not None and digest in accepted:
            continue
        problem = _polars_problem(pattern) if engine == POLARS else _duckdb_problem(pattern)
        if problem:
            raise ValueError(f"bad regular expression {pattern!r} for {engine}, which runs it: {problem}")
        if accepted is not None:
            accepted.add(digest)
    return pattern


@contextmanager
def remembered(file: Path) -> Iterator[None]:
    """Within: `check` skips a pattern an engine of the same version accepted before, as recorded
    in `file` (JSON: a list of digests), and records the ones it accepts. A file that cannot be
    read or written (a read-only workspace) only means the patterns are compiled."""
    try:
        known = set(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        known = set()
    accepted = set(known)
    token = _accepted.set(accepted)
    try:
        yield
    finally:
        _accepted.reset(token)
    if accepted != known:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            staged = file.with_name(f"{file.name}.{os.getpid()}.tmp")
            staged.write_text(json.dumps(sorted(accepted)), encoding="utf-8")
            staged.replace(file)  # whole or not at all, whoever else writes it
        except OSError:
            pass


def _digest(engine: str, pattern: str) -> str:
    return hashlib.sha256(f"{engine}\0{_version(engine)}\0{pattern}".encode()).hexdigest()


@lru_cache(maxsize=2)
def _version(engine: str) -> str:
    """The engine's package version (read without importing it)."""
    return version("polars" if engine == POLARS else "duckdb")


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text`, on the linear-time engine."""
    import polars as pl

    return bool(pl.Series([text], dtype=pl.String).str.contains(pattern).item())


def full_match(pattern: str, text: str) -> bool:
    """Whether `pattern` matches all of `text`, on the linear-time engine (as the ledger does)."""
    return search(full(pattern), text)


@lru_cache(maxsize=512)
def _polars_problem(pattern: str) -> str | None:
    import polars as pl

    for form in (pattern, full(pattern)):  # on its own, and wrapped (a `(?x)` comment can eat the wrapper)
        try:
            pl.Series([""], dtype=pl.String).str.contains(form)
        except pl.exceptions.PolarsError as exc:
            return _first_reason(str(exc))
    return None


@lru_cache(maxsize=512)
def _duckdb_problem(pattern: str) -> str | None:
    import duckdb

    with _lock:
        try:
            _connection().execute("select regexp_full_match('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            return str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
    return None


def _connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB of this process (opening one takes ~0.1 s); a forked worker makes its own."""
    import duckdb

    if _connections.get("pid") != os.getpid():
        _connections.update(pid=os.getpid(), con=duckdb.connect(config={"enable_external_access": False}))
    return _connections["con"]


def _first_reason(message: str) -> str:
    """The line of a Rust regex error that says what is wrong (`error: ...`), else its first line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reason = next((line.removeprefix("error: ") for line in lines if line.startswith("error: ")), None)
    return reason or (lines[0].removeprefix("regex error: ") if lines else "refused")
