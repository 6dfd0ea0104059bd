"""`costledger`: the command line over the same functions the Airflow DAGs call.

Exit codes: 0 success, 1 a validation failed, 2 bad input, bad usage or a bad environment (a full
or read-only disk, a missing permission), 3 an unexpected error (a bug: rerun with --debug)."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import click
import typer

from pipeline.adhoc import DEFAULT_TIMEOUT
from pipeline.errors import (
    CostLedgerError,
    EnvironmentProblem,
    EscapingFormatter,
    environment_problem,
    escape_control,
    machine_errno,
)
from pipeline.progress import Progress

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help=__doc__)
Ws = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.", envvar="COSTLEDGER_WORKSPACE")]
_debug = False
INTERNAL_ERROR = 3  # exit code of an unexpected exception: a bug, never bad input nor a failed validation


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    global _debug
    _debug = debug
    _show_warnings()


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record arrives."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _show_warnings() -> None:
    """The pipeline's warnings on stderr, one escaped line each. Its errors are not logged here:
    the command reports them once, as its own error line."""
    logger = logging.getLogger("pipeline")
    if any(isinstance(h, _Stderr) for h in logger.handlers):
        return
    handler = _Stderr()
    handler.setLevel(logging.WARNING)
    handler.addFilter(lambda record: record.levelno < logging.ERROR)
    handler.setFormatter(EscapingFormatter("warning: %(message)s"))
    logger.addHandler(handler)


def _say(text: str, *, err: bool = False) -> None:
    """One line of the command's output, control characters escaped."""
    typer.echo(escape_control(text), err=err)


def _progress() -> AbstractContextManager[Progress]:
    """What a long command is doing, on standard error: a progress bar on a terminal, plain lines
    anywhere else (see pipeline.progress)."""
    from pipeline.progress import for_stderr

    return for_stderr(lambda line: _say(line, err=True))


def _fail(exc: BaseException, code: int | None = None) -> NoReturn:
    if _debug:
        raise exc
    _say(f"error: {exc}", err=True)
    raise typer.Exit(getattr(exc, "exit_code", 2) if code is None else code)


@contextmanager
def _errors() -> Iterator[None]:
    """Bad input and bad environments as one line, exit 2 (a failed validation: 1); a bug as one
    line, exit 3, that says so.

    Bad input and usage raise CostLedgerError where they are found (config, periods, paths,
    queries). The machine's errors (OSError, DuckDB's IO and fatal errors, out of memory) can stop
    any step: the library lets them through, so that Airflow retries them, and they are named here,
    at the edge, with what to do. Anything else is a bug and is never shown as bad input."""
    try:
        yield
    except (typer.Exit, click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except CostLedgerError as exc:
        _fail(exc)
    except Exception as exc:  # the machine's problem, or else a bug: never shown as bad input
        problem = _machine_problem(exc)
        if problem is not None:
            _fail(problem)
        if _debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        _say(
            f"error: unexpected {type(exc).__name__}: {first} (a bug in costledger, not in the input: rerun with "
            "--debug for the traceback and report it)",
            err=True,
        )
        raise typer.Exit(INTERNAL_ERROR) from None


def _machine_problem(exc: Exception) -> CostLedgerError | None:
    """What the machine did to a step (a full or read-only disk, a missing permission, memory), as
    a CostLedgerError saying what to do; None for anything else."""
    import duckdb

    if isinstance(exc, (OSError, duckdb.IOException)) or machine_errno(exc) is not None:
        return environment_problem(exc)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return EnvironmentProblem(
            f"DuckDB ran out of memory: {str(exc).splitlines()[0]}; free memory, or set COSTLEDGER_DUCKDB_MEMORY "
            "(e.g. 4GB) within what the machine has; the step that stopped changed nothing"
        )
    return None


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to create.")]) -> None:
    """Create a workspace: config file and inbox folders."""
    from pipeline.workspace import Workspace

    with _errors():
        Workspace.init(directory)
    _say(f"workspace ready: {directory} (edit {directory / 'costledger.toml'}, drop files into {directory / 'inbox'})")


@app.command()
def run(
    workspace: Ws,
    on: Annotated[str | None, typer.Option("--date", help="Day to run for (YYYY-MM-DD).")] = None,
    month: Annotated[str | None, typer.Option("--month", help="Rebuild this month (YYYY-MM).")] = None,
    settle: Annotated[
        float | None,
        typer.Option(
            "--settle-seconds",
            help="Read files modified at least this long ago (default: [ingest] settle_seconds, 60).",
        ),
    ] = None,
    full_check: Annotated[
        bool,
        typer.Option(
            "--full-check", help="Validate every day of each period, not only the days changed since it last passed."
        ),
    ] = False,
) -> None:
    """Load the inbox, rebuild the affected periods, validate, publish. Then one line per file with
    quarantined or rejected rows; exit 2 if a file was rejected or had more than
    quarantine.max_share of its rows quarantined (the other files are published)."""
    from pipeline import run as steps
    from pipeline.load_checks import FilesFailed

    with _errors():
        day = _parse_date(on) if on else None
        try:
            with _progress() as shown:
                periods = steps.run(
                    workspace,
                    date=day,
                    month=month,
                    settle_seconds=settle,
                    full_check=full_check,
                    notify=lambda line: _say(line, err=True),
                    progress=shown,
                )
        except FilesFailed as exc:  # the good files are published; say so before the error line
            _say(f"published: {', '.join(exc.periods) or 'nothing new'}")
            if _debug:
                raise
            _say(f"error: {exc.summary}", err=True)
            raise typer.Exit(exc.exit_code) from None
    _say(f"published: {', '.join(periods) or 'nothing new'}")


@app.command()
def pull(workspace: Ws) -> None:
    """Copy new or changed objects of each [[remote_sources]] entry into inbox/<source>/."""
    from pipeline.pull import pull as pull_remote

    with _errors():
        results = pull_remote(workspace)
    for result in results:
        _say(f"{result.source}/{result.folder}: {len(result.copied)} pulled, {len(result.unchanged)} unchanged")


@app.command()
def report(
    workspace: Ws,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Language of index.html and summary.md: en or zh (default: [report] language, en)."
        ),
    ] = None,
) -> None:
    """Write reports/YYYY-MM/: index.html and summary.md in the default language, index.en.html,
    index.zh.html, summary.en.md and summary.zh.md (each page links to the other language),
    CSV/Parquet extracts, PNG charts."""
    from pipeline import run as steps

    with _errors():
        path = steps.report(workspace, month, lang=lang)
    _say(str(path))


@app.command()
def sql(
    workspace: Ws,
    query: Annotated[str, typer.Argument(help="A read-only SQL query.")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    timeout: Annotated[
        float, typer.Option("--timeout", help="Stop the query after this many seconds (0: no limit).")
    ] = DEFAULT_TIMEOUT,
) -> None:
    """Run a read-only query on the warehouse. Any column type is written (lists, structs, maps as
    JSON; intervals, blobs and huge numbers as text; money exact, without trailing zeros)."""
    from pipeline.adhoc import run_query
    from pipeline.warehouse import connect_read_only
    from pipeline.workspace import Workspace

    if fmt not in ("table", "csv", "json"):
        _fail(CostLedgerError(f"--format {fmt!r}: expected table, csv or json"))
    with _errors(), connect_read_only(Workspace.open(workspace).warehouse) as con:
        run_query(con, query, fmt=fmt, out=sys.stdout, timeout=timeout)


@app.command()
def check(workspace: Ws) -> None:
    """Check the published ledger: conservation per period, provider and currency; loads balanced;
    the billing keys kept beside the staged rows."""
    from pipeline.warehouse import connect_read_only, first_row, sql_text
    from pipeline.workspace import Workspace

    with _errors(), connect_read_only(Workspace.open(workspace).warehouse) as con:
        bad = con.sql(
            "select * from marts.billing_reconciliation where billed_difference <> 0 or effective_difference <> 0"
        ).pl()
        from pipeline.check_queries import load_balance_sql

        # every loaded file (period null = all): meta.loads' counts against the rows really in raw,
        # staging and quarantine
        unbalanced = con.sql(
            f"select path from ({load_balance_sql(con)}) where not balanced",
            params={"period": None, "since": None, "source_days": None, "gpu_days": None},
        ).pl()
        # the billing keys the writer keeps beside the staged rows (restatements find loads by them)
        keys_off = con.sql(sql_text("checks", "billing_keys_kept")).pl()
        periods = (first_row(con, "select count(distinct billing_period) from ledger.cost_ledger") or (0,))[0]
    for row in bad.iter_rows(named=True):
        _say(
            f"FAIL conservation {row['billing_period']} {row['provider']} {row['currency']}: billed "
            f"{row['billed_difference']}, effective {row['effective_difference']}",
            err=True,
        )
    for row in unbalanced.iter_rows(named=True):
        _say(f"FAIL rows in != loaded + quarantined: {row['path']}", err=True)
    for row in keys_off.iter_rows(named=True):
        _say(f"FAIL billing keys kept (staging.billing_keys) are not those of the staged rows: {row['path']}", err=True)
    if bad.height or unbalanced.height or keys_off.height:
        raise typer.Exit(1)
    _say(f"ok: {periods} periods reconcile exactly; every load balances")


@app.command()
def compact(workspace: Ws) -> None:
    """Merge the warehouse's small and partly deleted row groups. Publishing does it on its own once
    every 7 publishes; run it after many runs of ingest or build alone, or before heavy queries."""
    from pipeline import run as steps

    began = time.perf_counter()
    with _errors():
        steps.compact(workspace)
    _say(f"compacted in {time.perf_counter() - began:.1f} s")


@app.command("export-focus")
def export_focus(
    workspace: Ws,
    month: Annotated[str | None, typer.Option("--month", help="Only this billing period (YYYY-MM).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default exports/focus-<version>[-<month>].<format>).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    version: Annotated[
        str, typer.Option("--focus-version", help="FOCUS version: 1.2, or 1.0 for older validators.")
    ] = "1.2",
) -> None:
    """Write the normalised billing (active file versions) as a FOCUS dataset."""
    from pipeline.export import default_path
    from pipeline.export import export_focus as write_focus
    from pipeline.run import check_period
    from pipeline.warehouse import connect_read_only
    from pipeline.workspace import Workspace

    with _errors():
        ws = Workspace.open(workspace)
        if month is not None:
            check_period(month)
        target = out or default_path(ws.root, month=month, fmt=fmt, version=version)
        with connect_read_only(ws.warehouse) as con:
            rows = write_focus(con, target, month=month, fmt=fmt, version=version)
    _say(f"{rows} rows of FOCUS {version} written to {target}")


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="A billing export in any format ingest knows (see README).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="FOCUS file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "parquet",
    version: Annotated[
        str, typer.Option("--focus-version", help="FOCUS version: 1.2, or 1.0 for older validators.")
    ] = "1.2",
) -> None:
    """Normalise one billing export to a FOCUS file, without a workspace. Rows that ingest would
    quarantine are left out and written, with row, column, value and reason, beside the output."""
    from pipeline.export import convert_file, quarantine_path
    from pipeline.extract_csv import csv_text

    started = time.perf_counter()
    with _errors(), _progress() as shown:
        rows, rejects = convert_file(file, out, fmt=fmt, version=version, progress=shown)
        quarantine = quarantine_path(out)
        quarantine.unlink(missing_ok=True)  # never a stale list beside a new output
        if rejects.height:  # for people to open: cells that could run as formulas are neutralised
            quarantine.write_text(csv_text(rejects.columns, rejects.iter_rows()), encoding="utf-8", newline="\n")
        quarantined = rejects.get_column("row_number").n_unique() if rejects.height else 0
        shown.summary(
            f"convert done: 1 file, {rows:,} rows written, {quarantined:,} quarantined; "
            f"{time.perf_counter() - started:.1f} s"
        )
    _say(f"{rows} rows of FOCUS {version} written to {out}")
    if rejects.height:
        _say(f"{rejects.get_column('row_number').n_unique()} rows quarantined: see {quarantine}", err=True)


@app.command()
def demo(workspace: Ws, seed: Annotated[int, typer.Option(help="Generator seed.")] = 7) -> None:
    """Generate a 3-month estate, run the whole pipeline on it, write the reports."""
    from pipeline import run as steps
    from pipeline.generators.demo import generate_estate

    if not os.environ.get("COSTLEDGER_PSEUDONYM_KEY"):
        os.environ["COSTLEDGER_PSEUDONYM_KEY"] = secrets.token_hex(32)
        typer.echo("COSTLEDGER_PSEUDONYM_KEY not set: using a random key for this demo only")
    started = time.perf_counter()
    with _errors(), _progress() as shown:
        estate = generate_estate(workspace, seed=seed, progress=shown)
        shown.line(f"generated a {len(estate.months)}-month estate in {workspace}")
        periods = steps.run(workspace, date=estate.as_of, progress=shown)
        shown.phase("writing the monthly reports", len(estate.months))
        for month in estate.months:
            shown.item(f"{month}: {steps.report(workspace, month)} (and index.en.html, index.zh.html)")
        shown.summary(
            f"demo done: a {len(estate.months)}-month estate generated, {len(periods)} periods published, "
            f"{len(estate.months)} reports written; {time.perf_counter() - started:.1f} s"
        )
    _say(f'try: costledger sql -w {workspace} "select * from marts.monthly_model_cost"')


@app.command()
def generate(
    workspace: Ws,
    scale: Annotated[
        str,
        typer.Option(
            "--scale", help="S (the demo, one month), M or L (benchmark scales, see pipeline/generators/scale.py)."
        ),
    ] = "M",
    fmt: Annotated[str, typer.Option("--format", help="Billing and telemetry files: parquet or csv.")] = "parquet",
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
) -> None:
    """Write a workspace (config + inbox) with one month of inputs at a benchmark scale."""
    from pipeline.generators.scale import SCALES
    from pipeline.generators.scale import generate as generate_scale

    if scale not in ("S", *SCALES) or fmt not in ("parquet", "csv"):
        _fail(CostLedgerError(f"--scale {scale!r} --format {fmt!r}: expected S, M or L and parquet or csv"))
    started = time.perf_counter()
    with _errors(), _progress() as shown:
        generate_scale(workspace, scale, fmt=fmt, seed=seed, progress=shown)
        files = [f for f in (workspace / "inbox").rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        shown.summary(
            f"generate done: {len(files):,} input files, {size / 2**20:,.1f} MiB; {time.perf_counter() - started:.1f} s"
        )
    _say(
        f"generated scale {scale} ({fmt}) in {workspace} in {time.perf_counter() - started:.1f} s; run: costledger run "
        f"-w {workspace} --date 2026-01-31"
    )


def _parse_date(text: str) -> date:
    from pipeline.run import FIRST_PERIOD, LAST_PERIOD, period_of

    try:
        day = date.fromisoformat(text)
        period_of(day)
    except (ValueError, CostLedgerError):
        expected = f"expected a day YYYY-MM-DD from {FIRST_PERIOD}-01 to {LAST_PERIOD}-31"
        raise CostLedgerError(f"--date {text!r}: {expected}") from None
    return day


if __name__ == "__main__":
    app()
