"""What long work is doing while it does it: `run`, `demo`, `generate` and `convert` report each
phase (loading the inbox, building the periods...), each item of it (a file, a period, a day) and a
summary at the end.

Three ways to show it, one interface:

- `Progress` (the default of the library functions): each line logged at INFO on the
  `pipeline.progress` logger, which is what Airflow's task logs show;
- `Lines`: plain lines, `[3/12] billing/aws.csv: 2,329 rows loaded`, for a pipe, a log file or a
  test: no colour, no cursor movement, no control characters;
- `Bar`: on a terminal, a progress bar per phase (rich) with the item lines printed above it.

Every line has its control characters escaped (`pipeline.errors.escape_control`): a file named
with a newline or an escape sequence shows as `\\n` or `\\x1b`, on one line, in every form."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pipeline.errors import escape_control

log = logging.getLogger("pipeline.progress")


def count(n: int, noun: str) -> str:
    """'1 row', '2,329 rows'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


class Progress:
    """Lines on the `pipeline.progress` logger (INFO): the form Airflow's task logs show."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.count = 0

    def phase(self, name: str, total: int | None = None) -> None:
        """A phase starts: `name` ('loading inbox files'), with `total` items when known."""
        self.total, self.count = total, 0
        self.line(f"{name} ({total})" if total is not None else name)

    def item(self, text: str) -> None:
        """One item of the phase is done; `text` says what and how it went."""
        self.count += 1
        self.line(f"[{self.count}/{self.total}] {text}" if self.total is not None else f"[{self.count}] {text}")

    def summary(self, text: str) -> None:
        """The last line of the work: what it did, in counts, and how long it took."""
        self.line(text)

    def line(self, text: str) -> None:
        log.info("%s", escape_control(text))

    def close(self) -> None:
        """The work is over (done or failed): stop drawing."""


class Lines(Progress):
    """Plain lines through `write`, one per phase, item and summary."""

    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__()
        self.write = write

    def line(self, text: str) -> None:
        self.write(escape_control(text))


class Bar(Progress):
    """A rich progress bar per phase on a terminal; item lines and the summary printed above it."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        super().__init__()
        self.console = console
        self.bars = RichProgress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None
        self.bars.start()

    def phase(self, name: str, total: int | None = None) -> None:
        self.total, self.count = total, 0
        if self.task is not None:
            self.bars.remove_task(self.task)
        self.task = self.bars.add_task(escape_control(name), total=total)

    def item(self, text: str) -> None:
        self.count += 1
        self.line(text)
        if self.task is not None:
            self.bars.advance(self.task)

    def line(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(escape_control(text)), highlight=False, soft_wrap=True)

    def close(self) -> None:
        self.bars.stop()


@contextmanager
def for_stderr(write: Callable[[str], None]) -> Iterator[Progress]:
    """A Bar when standard error is a terminal (not a dumb one), else plain Lines through `write`."""
    from rich.console import Console

    console = Console(stderr=True)
    shown: Progress = Bar(console) if console.is_terminal and not console.is_dumb_terminal else Lines(write)
    try:
        yield shown
    finally:
        shown.close()
