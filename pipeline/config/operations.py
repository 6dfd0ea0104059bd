"""The configuration's operating settings: bad rows and dates per source, quarantine, ingest
limits, remote sources to pull, the report, and anomaly alerts with their notifiers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from pipeline.columns import SOURCES
from pipeline.config.base import Strict

RowPolicy = Literal["quarantine", "reject_file"]


class BadRows(Strict):
    """Per source, what a file with bad rows does: `quarantine` loads the good rows and keeps the
    bad ones in meta.quarantine; `reject_file` loads nothing of it (meta.loads says why)."""

    billing: RowPolicy = "quarantine"
    telemetry: RowPolicy = "quarantine"
    labor: Literal["reject_file"] = "reject_file"  # a partial HR file would misstate everyone's cost
    assets: RowPolicy = "quarantine"
    charges: RowPolicy = "quarantine"
    usage: RowPolicy = "quarantine"
    optimizations: RowPolicy = "quarantine"
    milestones: RowPolicy = "quarantine"
    fx: RowPolicy = "quarantine"
    budgets: RowPolicy = "quarantine"


DateOrder = Literal["auto", "mdy", "dmy"]


class Dates(Strict):
    """Per source, how dates written with slashes are read: `auto` decides from the file (a
    first part above 12 is a day: day/month/year; a second part above 12: month/day/year) and
    refuses a file whose dates read both ways; `mdy` (04/01/2026 is 1 April) or `dmy` (4 January)
    say it. ISO dates (2026-04-01) and dotted dates (01.04.2026, day first) read the same always."""

    billing: DateOrder = "auto"
    assets: DateOrder = "auto"
    charges: DateOrder = "auto"
    usage: DateOrder = "auto"
    optimizations: DateOrder = "auto"
    milestones: DateOrder = "auto"
    fx: DateOrder = "auto"


class Quarantine(Strict):
    """When quarantined rows fail a run: a file with more than `max_share` of its rows quarantined
    (or a rejected file) makes `costledger run` exit 2 and the nightly data-quality task fail,
    after the good files are loaded and published."""

    max_share: Decimal = Field(Decimal("0.5"), ge=0, le=1)


class Ingest(Strict):
    """Limits every delivered file must keep, checked in one streaming pass before any parser
    reads it (a file beyond one is rejected, naming the limit), and how long a file must rest
    before it is read. Sizes are in MiB (1 MiB = 1,048,576 bytes) of the content, after gzip."""

    # the largest content of one file (a gzip file: its size once decompressed)
    max_file_mib: int = Field(1024, gt=0)
    # a gzip file may expand at most this many times its size (checked once it passes 64 MiB)
    max_gzip_ratio: int = Field(100, gt=1)
    # the longest line (a JSON line, a line of a CSV file; a Prometheus answer is one document, exempt)
    max_line_mib: int = Field(16, gt=0)
    # the longest CSV value (quoted values may span lines)
    max_field_mib: int = Field(4, gt=0)
    # the largest content of a file of the other tables and HR files (neither billing nor
    # telemetry): they are parsed whole
    max_table_mib: int = Field(128, gt=0)
    # the largest JSON document (a Prometheus API answer): it is parsed whole
    max_document_mib: int = Field(32, gt=0)
    # a billing or telemetry file whose content is larger than this is parsed in chunks of about
    # this size, each staged to disk, so no such file is held whole in memory
    # (pipeline.ingest.chunked, pipeline.ingest.telemetry.stream)
    chunk_mib: float = Field(64, gt=0)
    # a file modified less than this many seconds ago may still be being written: it waits for a
    # later run (COSTLEDGER_SETTLE_SECONDS and `costledger run --settle-seconds` override it)
    settle_seconds: float = Field(60, ge=0)
    # threads that parse the next files while the writer loads one (pipeline.ingest.ahead); unset:
    # one fewer than the cores this process may use; 0: the writer parses every file itself. How a
    # run uses the machine, not what it computes: left out of the config's digests (run_id, the
    # build's recipe, bundles), so changing it rebuilds nothing
    parse_workers: int | None = Field(None, ge=0, exclude=True)


class RemoteSource(Strict):
    """An object-store folder pulled into inbox/<source>/<name>/ before each ingest (`costledger
    pull`, the nightly DAG). Credentials come from the Airflow connection `conn_id`, never from here."""

    source: str
    uri: str = Field(pattern=r"^(s3|s3a|gs|gcs|abfs|abfss|adl|file)://.+")
    conn_id: str | None = None
    # Folder under inbox/<source>/; defaults to one made from the URI's bucket and prefix.
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r}: expected one of {list(SOURCES)}")
        return value

    @property
    def folder(self) -> str:
        if self.name:
            return self.name
        bucket_and_prefix = self.uri.split("://", 1)[1]
        return re.sub(r"[^A-Za-z0-9._-]+", "-", bucket_and_prefix).strip("-._") or "remote"


class Report(Strict):
    """Monthly report options: impact windows and bootstrap, recommendation thresholds."""

    impact_window_days: int = Field(14, ge=3, le=90)
    bootstrap_draws: int = Field(2000, ge=100, le=100_000)
    bootstrap_seed: int = 20260215
    idle_threshold: Decimal = Field(Decimal("0.20"), ge=0, le=1)
    low_utilisation_percent: float = Field(40.0, ge=0, le=100)
    # An assumption, shown in the report: the discount a commitment would have given.
    commitment_discount: Decimal = Field(Decimal("0.30"), ge=0, le=1)
    # The language of index.html and summary.md (both languages are written beside them).
    language: Literal["en", "zh"] = "en"


class Notifier(Strict):
    """An Airflow notifier (a subclass of airflow.sdk.BaseNotifier, by import path) and its
    keyword arguments; its templated fields see `anomalies` (a list of rows) and `anomaly_text`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_path: str = Field(alias="class", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
    kwargs: dict[str, object] = {}


class Anomalies(Strict):
    """Daily anomalies per model and category (marts.anomalies) and the alert the nightly run sends.

    Band: the median of the same weekday over the last `weeks` weeks, +- `band_mads` x 1.4826 x
    their median absolute deviation, at least +- `min_band_share` of the median and
    +- `min_band_amount`. Alert: an anomaly above its band by at least `alert_excess`
    (reporting currency) on one of the `alert_days` days up to the run's day, not alerted before."""

    weeks: int = Field(4, ge=2, le=26)
    band_mads: Decimal = Field(Decimal("3"), gt=0, le=100)
    min_band_share: Decimal = Field(Decimal("0.25"), ge=0, le=100)
    min_band_amount: Decimal = Field(Decimal("1"), ge=0)
    # labor and time are monthly figures spread over days (a change of plan, not of spend)
    categories: list[Literal["hardware", "software", "data", "labor", "operational", "time"]] = [
        "hardware",
        "software",
        "data",
        "operational",
    ]
    alert_excess: Decimal = Field(Decimal("100"), ge=0)
    alert_days: int = Field(7, ge=1, le=366)
    on_alert: Literal["notify", "fail"] = "notify"
    # none: the anomalies are logged (pipeline.marts.notifiers.LogNotifier)
    notifiers: list[Notifier] = []
