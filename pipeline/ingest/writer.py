"""Writing one parsed file into the warehouse: its raw rows, typed staging rows and quarantined
rows, the restatement of earlier billing exports, and its meta.loads row, in one transaction; the
meta.loads records of rejected and held files; and what a run did (`IngestResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipeline import warehouse
from pipeline.errors import CostLedgerError
from pipeline.ingest import (
    bundle,
    discover,
    labor,
    limits,
    manifest,
    raw_store,
    restate,
    tables,
)
from pipeline.ingest.parse import ROW, Parsed
from pipeline.progress import count
from pipeline.workspace import Workspace

# staging table -> the columns that date its rows: (first, last) day, for the periods a load touches
DATED: dict[str, tuple[str, str]] = {
    "staging.billing": ("x_BillingPeriod", "x_BillingPeriod"),
    "staging.gpu_samples": ("ts", "ts"),
    "staging.charges": ("service_start", "service_end"),
    "staging.licences": ("term_start", "term_end"),
    "staging.invoices": ("billing_period", "billing_period"),
    "staging.usage": ("usage_date", "usage_date"),
    "staging.optimizations": ("action_date", "action_date"),
    "staging.milestones": ("planned_date", "actual_date"),
    "staging.fx_rates": ("rate_date", "rate_date"),
}


@dataclass
class IngestResult:
    periods: set[str] = field(default_factory=set)
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # notes on files left for a later run (not settled)
    causes: list[BaseException] = field(default_factory=list)  # what raised behind errors that are not InputErrors
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # file loaded -> (rows loaded, quarantined)

    def mark(self) -> tuple[int, int, int, int]:
        """Where the lists stand, to tell what became of the next file (see `outcome`)."""
        return len(self.loaded), len(self.errors), len(self.waiting), len(self.skipped)

    def outcome(self, relative: str, mark: tuple[int, int, int, int]) -> str:
        """What became of the file at `relative` since `mark`, as a progress line."""
        loaded, errors, waiting, skipped = mark
        if len(self.loaded) > loaded:
            rows, quarantined = self.rows.get(relative, (0, 0))
            return f"{relative}: {count(rows, 'row')} loaded" + (
                f", {quarantined:,} quarantined" if quarantined else ""
            )
        if len(self.errors) > errors:
            return f"{relative}: rejected"
        if len(self.waiting) > waiting:
            return f"{relative}: waiting until it has settled"
        if len(self.skipped) > skipped:
            return f"{relative}: unchanged, already loaded"
        return f"{relative}: recorded"

    @property
    def rows_loaded(self) -> int:
        return sum(rows for rows, _ in self.rows.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(quarantined for _, quarantined in self.rows.values())


def periods_of(frame: pl.DataFrame, first: str, last: str) -> set[str]:
    """Every month from the first to the last day of each row (a charge may span months)."""
    if frame.is_empty():
        return set()
    if frame.schema[first] == pl.String:
        return set(frame.get_column(first).drop_nulls().unique().to_list())
    spans = (
        frame.select(
            pl.col(first).cast(pl.Date).alias("a"), pl.coalesce(pl.col(last), pl.col(first)).cast(pl.Date).alias("b")
        )
        .drop_nulls()
        .unique()
    )
    months = spans.select(
        pl.date_ranges(pl.col("a").dt.month_start(), pl.col("b").dt.month_start(), "1mo").alias("m")
    ).explode("m")
    return set(months.get_column("m").dt.strftime("%Y-%m").drop_nulls().to_list())


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from _incoming")
    finally:
        con.unregister("_incoming")


def staging_table(source: str, fmt: str | None) -> str:
    if source == "telemetry":
        return "staging.gpu_samples"
    if source == "billing":
        return "staging.billing"
    table = tables.BY_FORMAT.get(fmt) if fmt is not None else None
    if table is None:
        raise CostLedgerError(f"no staging table for {source} files of format {fmt!r}")
    return f"staging.{table.table}"


def staged_periods(source: str, parsed: Parsed) -> set[str]:
    target = staging_table(source, parsed.format) if source != "labor" else None
    return periods_of(parsed.rows, *DATED[target]) if target in DATED else set()


def write(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    relative: str,
    load_id: str,
    checksum: str,
    parsed: Staged,
    now: datetime,
    result: IngestResult,
    parts: frozenset[str],
) -> None:
    """One file's rows, quarantine and meta.loads row, in one transaction (HR rows go to the
    restricted database first, and are dropped again if the transaction fails)."""
    earlier = [
        row[0]
        for row in con.execute(
            "select load_id from meta.loads where source = ? and path = ? and status = 'loaded' and load_id <> ?",
            [source, relative, load_id],
        ).fetchall()
    ]
    if source == "labor":
        if parsed.parsed is None:
            raise CostLedgerError(f"{relative}: HR files are parsed by the writer, never staged")
        with labor.open_restricted(ws.restricted) as hr:
            labor.store(hr, load_id, parsed.parsed, earlier)
    touched: set[str] = set()
    try:
        if source != "labor":  # HR rows never enter the shared warehouse or its files
            raw_store.store(
                ws, source, load_id, frame=parsed.parsed.raw if parsed.parsed else None, found=parsed.on_disk
            )
        with warehouse.transaction(con):
            con.execute("delete from meta.loads where load_id = ?", [load_id])  # a retried rejected file
            con.execute("delete from meta.quarantine where load_id = ?", [load_id])
            warehouse.define_raw_view(con, ws.root)  # a new record shape: the view reads its files too
            if source != "labor":
                parsed.insert(con, staging_table(source, parsed.format), "rows", load_id=load_id)
            if source == "billing":  # a later export of the same (provider, account, period) replaces it
                restated, duplicates = restate.supersede(con, load_id, relative, now, parts=parts)
                touched |= restated
                parsed.rows_loaded -= duplicates  # lines another part of the export holds: quarantined
                parsed.staged_rows -= duplicates
                parsed.rows_quarantined += duplicates
            for old in earlier:
                ((old_periods, old_format),) = con.execute(
                    "select periods, detected_format from meta.loads where load_id = ?", [old]
                ).fetchall()
                touched |= set(old_periods or [])
                if source not in ("labor",):
                    con.execute(f"delete from {staging_table(source, old_format)} where load_id = ?", [old])
                if source == "billing":
                    restate.forget_keys(con, old)
                con.execute(
                    "update meta.loads set status = 'superseded', superseded_by = ? where load_id = ?", [load_id, old]
                )
            parsed.insert(con, "meta.quarantine", "rejects", load_id=load_id, path=relative)
            warehouse.mark_pending(
                con, touched | parsed.periods
            )  # in this transaction: a crash after it still rebuilds them
            con.execute(
                "insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, null, ?, ?)",
                [
                    load_id,
                    source,
                    relative,
                    checksum,
                    parsed.format,
                    parsed.rows_in,
                    parsed.rows_loaded,
                    parsed.rows_quarantined,
                    load_message(parsed),
                    sorted(parsed.periods),
                    now,
                ],
            )
    except BaseException:
        if source == "labor":
            with labor.open_restricted(ws.restricted) as hr:
                labor.forget(hr, load_id, parsed.format or "")
        else:
            raw_store.remove(ws, load_id)
        raise
    result.periods |= touched


@dataclass
class Staged:
    """One file's parse as the writer inserts it: frames parsed in this process, or the Parquet
    files of a bundle (read by DuckDB straight into the warehouse, never through Python)."""

    format: str | None
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    notes: list[str]
    periods: set[str]
    staged_rows: int  # distinct input rows that reached staging (HR: rows stored)
    parsed: Parsed | None = None
    on_disk: bundle.Bundle | None = None

    @classmethod
    def of_parsed(cls, parsed: Parsed, source: str) -> Staged:
        staged_rows = parsed.rows.get_column(ROW).n_unique() if source != "labor" else parsed.rows.height
        return cls(
            parsed.format,
            parsed.rows_in,
            parsed.rows_loaded,
            parsed.rows_quarantined,
            list(parsed.notes),
            staged_periods(source, parsed),
            staged_rows,
            parsed=parsed,
        )

    @classmethod
    def of_bundle(cls, found: bundle.Bundle) -> Staged:
        m = found.meta
        return cls(
            m["format"],
            m["rows_in"],
            m["rows_loaded"],
            m["rows_quarantined"],
            m["notes"],
            set(m["periods"]),
            m["staged_rows"],
            on_disk=found,
        )

    def insert(self, con: duckdb.DuckDBPyConnection, table: str, part: str, **constants: str) -> None:
        """insert into `table` the part's rows (rows, raw or rejects) plus constant text columns."""
        extra = "".join(f", ?::varchar as {name}" for name in constants)
        if self.on_disk is not None:
            for file in self.on_disk.files(part):  # a chunked bundle: its chunks' files may differ in raw's keys
                con.execute(
                    f"insert into {table} by name select *{extra} from read_parquet(?, hive_partitioning = false)",
                    [*constants.values(), str(file)],
                )
            return
        con.register("_incoming", getattr(self.parsed, part).to_arrow())
        try:
            con.execute(f"insert into {table} by name select *{extra} from _incoming", list(constants.values()))
        finally:
            con.unregister("_incoming")


def load_message(parsed: Staged) -> str:
    if not parsed.rows_quarantined:
        message = f"{parsed.rows_loaded} rows loaded"
    else:
        message = f"{parsed.rows_loaded} rows loaded, {parsed.rows_quarantined} quarantined (see meta.quarantine)"
    return "; ".join([message, *parsed.notes])


def record_rejected(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    source: str,
    relative: str,
    checksum: str,
    message: str,
    now: datetime,
    rejects: pl.DataFrame | None = None,
) -> None:
    """A rejected file: its meta.loads row and, when it was rejected for its bad rows, every row
    in meta.quarantine (rows in = 0 loaded + rows quarantined; see checks.whole_file)."""
    rows = 0 if rejects is None else rejects.get_column(ROW).n_unique()
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute("delete from meta.quarantine where load_id = ?", [load_id])
        if rejects is not None and rows:
            insert_frame(
                con,
                "meta.quarantine",
                rejects.rename({ROW: "row_number"}).with_columns(
                    pl.lit(load_id).alias("load_id"), pl.lit(relative).alias("path")
                ),
            )
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, null, ?, 0, ?, 'rejected', ?, null, [], ?)",
            [load_id, source, relative, checksum, rows, rows, message, now],
        )


def record_held(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    verdict: manifest.Verdict,
    result: IngestResult,
) -> None:
    """A file recorded without being parsed: a billing manifest, a part of an incomplete
    multi-part export, or a link out of the inbox (its bytes are never read)."""
    relative = path.relative_to(ws.inbox).as_posix()
    inside = path.resolve().is_relative_to(ws.inbox.resolve())
    checksum = limits.checksum(path) if inside else discover.sha256(relative.encode())
    load_id = f"{source}-{checksum[:16]}"
    now = datetime.now(UTC).replace(tzinfo=None)
    if verdict.status == "rejected":
        seen = warehouse.first_row(con, "select status from meta.loads where load_id = ?", [load_id])
        if seen is None or seen[0] == "rejected":  # never undo a part that loaded before
            record_rejected(con, load_id, source, relative, checksum, verdict.message, now)
            result.errors.append(f"{relative}: {verdict.message}" if inside else verdict.message)
        return
    if warehouse.first_row(con, "select 1 from meta.loads where load_id = ? and status = 'loaded'", [load_id]):
        result.skipped.append(relative)
        return
    with warehouse.transaction(con):
        con.execute("delete from meta.loads where load_id = ?", [load_id])
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, ?, 0, 0, 0, 'loaded', ?, null, [], ?)",
            [load_id, source, relative, checksum, manifest.FORMAT, verdict.message, now],
        )
