"""`costledger`: the command line over the same functions the Airflow DAGs call.

Exit codes: 0 success, 1 a validation failed, 2 bad input or usage."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.errors import CostLedgerError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help=__doc__)
Ws = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.", envvar="COSTLEDGER_WORKSPACE")]
_debug = False


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    global _debug
    _debug = debug


def _fail(exc: Exception) -> None:
    if _debug:
        raise exc
    code = getattr(exc, "exit_code", 2)
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to create.")]) -> None:
    """Create a workspace: config file and inbox folders."""
    from pipeline.workspace import Workspace

    Workspace.init(directory)
    typer.echo(f"workspace ready: {directory} (edit {directory / 'costledger.toml'}, drop files into {directory / 'inbox'})")


@app.command()
def run(
    workspace: Ws,
    on: Annotated[Optional[str], typer.Option("--date", help="Day to run for (YYYY-MM-DD).")] = None,
    month: Annotated[Optional[str], typer.Option("--month", help="Rebuild this month (YYYY-MM).")] = None,
    settle: Annotated[Optional[float], typer.Option(
        "--settle-seconds", help="Read files modified at least this long ago (default: [ingest] settle_seconds, 60).")] = None,
) -> None:
    """Load the inbox, rebuild the affected periods, validate, publish."""
    from pipeline import run as steps

    try:
        day = _parse_date(on) if on else None
        periods = steps.run(workspace, date=day, month=month, settle_seconds=settle)
    except CostLedgerError as exc:
        _fail(exc)
    typer.echo(f"published: {', '.join(periods) or 'nothing new'}")


@app.command()
def pull(workspace: Ws) -> None:
    """Copy new or changed objects of each [[remote_sources]] entry into inbox/<source>/."""
    from pipeline.pull import pull as pull_remote

    try:
        results = pull_remote(workspace)
    except CostLedgerError as exc:
        _fail(exc)
    for result in results:
        typer.echo(f"{result.source}/{result.folder}: {len(result.copied)} pulled, {len(result.unchanged)} unchanged")


@app.command()
def report(
    workspace: Ws,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    lang: Annotated[str, typer.Option("--lang", help="Report language: en or zh.")] = "en",
) -> None:
    """Write reports/YYYY-MM/: index.html, summary.md, CSV/Parquet extracts, PNG charts."""
    from pipeline import run as steps

    try:
        path = steps.report(workspace, month, lang=lang)
    except CostLedgerError as exc:
        _fail(exc)
    typer.echo(str(path))


@app.command()
def sql(
    workspace: Ws,
    query: Annotated[str, typer.Argument(help="A read-only SQL query.")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Run a read-only query on the warehouse."""
    import duckdb

    from pipeline.warehouse import connect_read_only
    from pipeline.workspace import Workspace

    if fmt not in ("table", "csv", "json"):
        _fail(CostLedgerError(f"--format {fmt!r}: expected table, csv or json"))
    try:
        con = connect_read_only(Workspace.open(workspace).warehouse)
        relation = con.sql(query)  # run once: a query is never executed twice
        frame = relation.pl() if relation is not None else None
    except CostLedgerError as exc:
        _fail(exc)
    except duckdb.Error as exc:
        _fail(CostLedgerError(f"query refused: {str(exc).splitlines()[0]}"))
    if frame is None:
        return
    if fmt == "csv":
        sys.stdout.write(frame.write_csv())
    elif fmt == "json":
        typer.echo(json.dumps(frame.to_dicts(), default=str, indent=1))
    else:
        import polars as pl

        with pl.Config(tbl_rows=200, tbl_cols=30, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
            typer.echo(str(frame))


@app.command()
def check(workspace: Ws) -> None:
    """Check the published ledger: conservation per period, provider and currency; loads balanced."""
    from pipeline.warehouse import connect_read_only
    from pipeline.workspace import Workspace

    import duckdb

    try:
        con = connect_read_only(Workspace.open(workspace).warehouse)
    except CostLedgerError as exc:
        _fail(exc)
    from pipeline.validate import load_balance_sql

    try:
        bad = con.sql("select * from marts.billing_reconciliation where billed_difference <> 0 or effective_difference <> 0").pl()
        # every loaded file (period null = all): meta.loads' counts against the rows really in raw,
        # staging and quarantine
        unbalanced = con.sql(f"select path from ({load_balance_sql(con)}) where not balanced", params={"period": None}).pl()
    except duckdb.Error as exc:
        _fail(CostLedgerError(f"cannot check the warehouse: {str(exc).splitlines()[0]}"))
    for row in bad.iter_rows(named=True):
        typer.echo(f"FAIL conservation {row['billing_period']} {row['provider']} {row['currency']}: billed {row['billed_difference']}, effective {row['effective_difference']}", err=True)
    for row in unbalanced.iter_rows(named=True):
        typer.echo(f"FAIL rows in != loaded + quarantined: {row['path']}", err=True)
    if bad.height or unbalanced.height:
        raise typer.Exit(1)
    periods = con.execute("select count(distinct billing_period) from ledger.cost_ledger").fetchone()[0]
    typer.echo(f"ok: {periods} periods reconcile exactly; every load balances")


@app.command("export-focus")
def export_focus(
    workspace: Ws,
    month: Annotated[Optional[str], typer.Option("--month", help="Only this billing period (YYYY-MM).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="File to write (default exports/focus-<version>[-<month>].<format>).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    version: Annotated[str, typer.Option("--focus-version", help="FOCUS version: 1.2, or 1.0 for older validators.")] = "1.2",
) -> None:
    """Write the normalised billing (active file versions) as a FOCUS dataset."""
    from pipeline.export import default_path, export_focus as write_focus
    from pipeline.run import check_period
    from pipeline.warehouse import connect_read_only
    from pipeline.workspace import Workspace

    try:
        ws = Workspace.open(workspace)
        if month is not None:
            check_period(month)
        target = out or default_path(ws.root, month=month, fmt=fmt, version=version)
        rows = write_focus(connect_read_only(ws.warehouse), target, month=month, fmt=fmt, version=version)
    except CostLedgerError as exc:
        _fail(exc)
    typer.echo(f"{rows} rows of FOCUS {version} written to {target}")


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="A billing export in any format ingest knows (see README).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="FOCUS file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "parquet",
    version: Annotated[str, typer.Option("--focus-version", help="FOCUS version: 1.2, or 1.0 for older validators.")] = "1.2",
) -> None:
    """Normalise one billing export to a FOCUS file, without a workspace. Rows that ingest would
    quarantine are left out and written, with row, column, value and reason, beside the output."""
    from pipeline.export import convert_file

    try:
        rows, rejects = convert_file(file, out, fmt=fmt, version=version)
    except CostLedgerError as exc:
        _fail(exc)
    typer.echo(f"{rows} rows of FOCUS {version} written to {out}")
    quarantine = out.with_name(f"{out.name}.quarantine.csv")
    quarantine.unlink(missing_ok=True)  # never a stale list beside a new output
    if rejects.height:
        rejects.write_csv(quarantine)
        typer.echo(f"{rejects.get_column('row_number').n_unique()} rows quarantined: see {quarantine}", err=True)


@app.command()
def demo(workspace: Ws, seed: Annotated[int, typer.Option(help="Generator seed.")] = 7) -> None:
    """Generate a 3-month estate, run the whole pipeline on it, write the reports."""
    from pipeline import run as steps
    from pipeline.generator import generate_estate

    if not os.environ.get("COSTLEDGER_PSEUDONYM_KEY"):
        os.environ["COSTLEDGER_PSEUDONYM_KEY"] = secrets.token_hex(32)
        typer.echo("COSTLEDGER_PSEUDONYM_KEY not set: using a random key for this demo only")
    started = time.perf_counter()
    try:
        estate = generate_estate(workspace, seed=seed)
        typer.echo(f"generated a {len(estate.months)}-month estate in {workspace}")
        steps.run(workspace, date=estate.as_of)
        for month in estate.months:
            typer.echo(f"report: {steps.report(workspace, month)}")
    except CostLedgerError as exc:
        _fail(exc)
    typer.echo(f"demo finished in {time.perf_counter() - started:.1f} s; try: costledger sql -w {workspace} \"select * from marts.monthly_model_cost\"")


@app.command()
def generate(
    workspace: Ws,
    scale: Annotated[str, typer.Option("--scale", help="S (the demo, one month), M or L (benchmark scales, see pipeline/scale.py).")] = "M",
    fmt: Annotated[str, typer.Option("--format", help="Billing and telemetry files: parquet or csv.")] = "parquet",
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
) -> None:
    """Write a workspace (config + inbox) with one month of inputs at a benchmark scale."""
    from pipeline.scale import SCALES, generate as generate_scale

    if scale not in ("S", *SCALES) or fmt not in ("parquet", "csv"):
        _fail(CostLedgerError(f"--scale {scale!r} --format {fmt!r}: expected S, M or L and parquet or csv"))
    started = time.perf_counter()
    generate_scale(workspace, scale, fmt=fmt, seed=seed)
    typer.echo(f"generated scale {scale} ({fmt}) in {workspace} in {time.perf_counter() - started:.1f} s; run: costledger run -w {workspace} --date 2026-01-31")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CostLedgerError(f"--date {text!r}: expected YYYY-MM-DD") from None


if __name__ == "__main__":
    app()
