"""dcgm-exporter scrapes in the Prometheus text exposition format -> staging.gpu_samples rows.

`name{label="value",...} value [timestamp_ms]`, one sample a line; `#` lines are comments. One
raw row per sample line.

A file may hold one scrape or several concatenated (`curl .../metrics >> file`). A new scrape
starts where a `# HELP` or `# TYPE` line repeats for a metric that already had one in the current
scrape, or where a series (metric name and label set) repeats. A sample with its own timestamp
keeps it. A sample without one takes its scrape's time: the file's scrape time is that of its
last scrape, and each earlier scrape is one step (`telemetry_step_seconds`) before the next. The
file's scrape time is a `# scrape_time <ISO or epoch seconds>` comment if there is one, else a
date-time in the file name (`...2026-01-05T10:00:00Z.prom` or `...20260105T100000Z...`), else the
file's modification time.

A file parsed in chunks (pipeline.ingest.telemetry.stream; cut at line ends) is read with one
`Chunks`: the scrape count carries over from chunk to chunk, and a sample without a timestamp
gets its time once every chunk is read, when the last scrape and the scrape time are known."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.ingest.adapter import Adapter, Head
from pipeline.ingest.parse import ROW, Parsed, decode_text, line_records
from pipeline.ingest.telemetry.samples import CHUNK, LABELS, WORKLOAD, canonical_labels, finish

FORMAT = "prometheus-exposition"
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_SCRAPE_COMMENT = re.compile(r"^#\s*scrape_time\s*[:=]?\s*(\S+)\s*$", re.IGNORECASE)
_META = re.compile(r"^#\s*(HELP|TYPE)\s+([A-Za-z_:][A-Za-z0-9_:]*)")
_NAME_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[T_ ](\d{2}):?(\d{2}):?(\d{2})Z?")


def _detect(head: Head) -> str | None:
    return FORMAT if detect(head.text) else None


def detect(text: str) -> bool:
    """Exposition text: its first non-comment line is `metric{...} value` or `metric value`."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return _SAMPLE.match(stripped) is not None and not stripped.startswith("{")
    return any(line.startswith("# TYPE ") for line in text.splitlines()[:50])


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _time_text(value: str) -> datetime | None:
    try:
        if re.fullmatch(r"\d{9,10}(?:\.\d+)?", value):
            return datetime.fromtimestamp(float(value), tz=UTC).replace(tzinfo=None)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def scrape_time(text: str, path: Path) -> tuple[datetime, str]:
    """The file's scrape time (UTC, naive) and where it came from."""
    return _comment_time(text) or _path_time(path)


def _comment_time(text: str) -> tuple[datetime, str] | None:
    """The time of the text's first `# scrape_time` comment, if any."""
    for line in text.splitlines():
        match = _SCRAPE_COMMENT.match(line.strip())
        if match and (moment := _time_text(match.group(1))) is not None:
            return moment, "scrape_time comment"
    return None


def _path_time(path: Path) -> tuple[datetime, str]:
    """The scrape time of a file without a `# scrape_time` comment: from its name or its mtime."""
    match = _NAME_TIME.search(path.name)
    if match:
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
        return datetime(y, mo, d, h, mi, s), "file name"
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(tzinfo=None, microsecond=0)
    return mtime, "file modification time"


class _Scrapes:
    """Numbers the scrapes of a file as its lines go by (see the module docstring)."""

    def __init__(self) -> None:
        self.index = 0
        self._series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        self._meta: set[tuple[str, str]] = set()

    def _next(self) -> None:
        self.index += 1
        self._series, self._meta = set(), set()

    def comment(self, line: str) -> None:
        match = _META.match(line)
        if match is None:
            return
        key = (match.group(1), match.group(2))
        if key in self._meta:
            self._next()
        self._meta.add(key)

    def sample(self, name: str, labels: dict[str, str]) -> int:
        series = (name, tuple(sorted(labels.items())))
        if series in self._series:
            self._next()
        self._series.add(series)
        return self.index


_SCHEMA = {
    ROW: pl.Int64,
    "metric": pl.String,
    "_ms": pl.Int64,
    "_scrape": pl.Int64,
    "value": pl.String,
    **{c: pl.String for c in (*LABELS, *WORKLOAD, "labels")},
}


@dataclass
class _Lines:
    """What the lines of a file have shown so far (one chunk after another)."""

    scrapes: _Scrapes = field(default_factory=_Scrapes)
    rows: int = 0  # raw rows (sample lines) so far
    lines: int = 0  # lines so far
    last_scrape: int = 0  # the scrape of the last sample
    untimed: bool = False  # some sample has no timestamp
    comment: tuple[datetime, str] | None = None  # the first `# scrape_time` comment

    def read(self, text: str) -> tuple[list[tuple[int, str]], pl.DataFrame, list[tuple]]:
        """The text's lines -> (raw rows, sample records, bad lines as rejects)."""
        raw, records, bad = [], [], []
        lines = text.splitlines()
        for number, line in enumerate(lines, start=self.lines + 1):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                self.scrapes.comment(stripped)
                if self.comment is None and stripped[1:].lstrip().lower().startswith("scrape_time"):
                    self.comment = _comment_time(stripped)
                continue
            self.rows += 1
            raw.append((self.rows, stripped))
            match = _SAMPLE.match(stripped)
            if match is None:
                bad.append(
                    (self.rows, "line", stripped[:200], f"line {number}: expected `metric{{labels}} value [timestamp]`")
                )
                continue
            name, body, value, stamp = match.groups()
            labels = {k: _unescape(v) for k, v in _LABEL.findall(body or "")}
            records.append(
                {
                    ROW: self.rows,
                    "metric": name,
                    "_ms": int(stamp) if stamp is not None else None,
                    "_scrape": (scrape := self.scrapes.sample(name, labels)),
                    "value": value,
                    **canonical_labels(labels),
                }
            )
            self.last_scrape = scrape
        self.lines += len(lines)
        frame = pl.DataFrame(records, schema=_SCHEMA)
        self.untimed = self.untimed or frame.get_column("_ms").null_count() > 0
        return raw, frame, bad

    def timing(self, path: Path, default_step: int) -> tuple[datetime | None, int, list[str]]:
        """(the file's scrape time, if a sample needs it; the last scrape; the note saying so)."""
        last_scrape = self.last_scrape
        if not self.untimed:
            return None, last_scrape, []
        scraped, origin = self.comment or _path_time(path)
        if last_scrape == 0:
            return (
                scraped,
                0,
                [f"samples without a timestamp take the scrape time {scraped:%Y-%m-%d %H:%M:%S} ({origin})"],
            )
        first = scraped - timedelta(seconds=default_step * last_scrape)
        return (
            scraped,
            last_scrape,
            [
                f"{last_scrape + 1} scrapes; samples without a timestamp take their scrape's time: the last "
                f"{scraped:%Y-%m-%d %H:%M:%S} ({origin}), each earlier one {default_step} s before the next "
                f"(the first {first:%Y-%m-%d %H:%M:%S})"
            ],
        )


def _times(scraped: datetime | None, last_scrape: int, default_step: int) -> pl.Expr:
    """A sample's time: its timestamp, else its scrape's (one step per scrape before the last)."""
    before_last = pl.duration(seconds=(last_scrape - pl.col("_scrape")) * default_step, time_unit="us")
    return pl.coalesce(
        pl.from_epoch("_ms", time_unit="ms").cast(pl.Datetime("us")),
        pl.lit(scraped, dtype=pl.Datetime("us")) - before_last,
    )


def _with_bad(rejects: pl.DataFrame, bad: list[tuple]) -> pl.DataFrame:
    """The samples' rejects and the lines that are not samples, by row."""
    if bad:
        rejects = pl.concat([rejects, pl.DataFrame(bad, schema=rejects.schema, orient="row")])
    return rejects.sort(ROW)


def read(path: Path, data: bytes, config: Config) -> Parsed:
    default_step = config.telemetry_step_seconds
    text = decode_text(data, path)
    lines = _Lines()
    raw, frame, bad = lines.read(text)
    if not raw:
        raise InputError(NO_SAMPLES, path=path)
    scraped, last_scrape, notes = lines.timing(path, default_step)
    frame = frame.with_columns(
        _times(scraped, last_scrape, default_step).alias("ts"),
        pl.lit(None, dtype=pl.Int32).alias("step_seconds"),
    ).drop("_ms", "_scrape")
    rows, rejects, counts = finish(frame, default_step=default_step)
    return Parsed(
        format=FORMAT,
        raw=line_records(raw),
        rows=rows,
        rejects=_with_bad(rejects, bad),
        notes=notes + counts,
    )


NO_SAMPLES = 'no samples: expected lines like `DCGM_FI_DEV_GPU_UTIL{gpu="0",...} 42`'
_PLACEHOLDER = datetime(1970, 1, 1)  # a chunk's sample without a timestamp, until `complete` dates it


class Chunks:
    """A file read a chunk at a time (pipeline.ingest.telemetry.stream), cut at line ends."""

    csv = False

    def __init__(self, path: Path, config: Config) -> None:
        self.path, self.config = path, config
        self.lines = _Lines()
        self.timed: tuple[datetime | None, int, list[str]] | None = None

    def header(self, first_line: str) -> bool:
        return False

    def chunk(self, data: bytes | pl.DataFrame, first: int) -> Parsed:
        assert isinstance(data, bytes)
        raw, frame, bad = self.lines.read(decode_text(data, self.path))
        frame = frame.with_columns(
            pl.coalesce(
                pl.from_epoch("_ms", time_unit="ms").cast(pl.Datetime("us")),
                pl.lit(_PLACEHOLDER, dtype=pl.Datetime("us")),
            ).alias("ts"),
            pl.lit(None, dtype=pl.Int32).alias("step_seconds"),
            pl.when(pl.col("_ms").is_null()).then(pl.col("_scrape")).alias("_scrape"),
        ).drop("_ms")
        rows, rejects, counts = finish(
            frame, default_step=self.config.telemetry_step_seconds, steps=CHUNK, carry=("_scrape",)
        )
        return Parsed(format=FORMAT, raw=line_records(raw), rows=rows, rejects=_with_bad(rejects, bad), notes=counts)

    def complete(self, rows: pl.DataFrame) -> pl.DataFrame:
        if not self.lines.rows:
            raise InputError(NO_SAMPLES, path=self.path)
        if self.timed is None:
            self.timed = self.lines.timing(self.path, self.config.telemetry_step_seconds)
        scraped, last_scrape, _ = self.timed
        untimed = pl.col("_scrape").is_not_null()
        dated = _times(scraped, last_scrape, self.config.telemetry_step_seconds).alias("_dated")
        return (
            rows.with_columns(pl.lit(None, dtype=pl.Int64).alias("_ms"))
            .with_columns(dated)
            .with_columns(pl.when(untimed).then(pl.col("_dated")).otherwise(pl.col("ts")).alias("ts"))
            .drop("_ms", "_dated", "_scrape")
        )

    def notes(self) -> list[str]:
        if not self.lines.rows:
            raise InputError(NO_SAMPLES, path=self.path)
        if self.timed is None:
            self.timed = self.lines.timing(self.path, self.config.telemetry_step_seconds)
        return self.timed[2]


ADAPTER: Adapter[bytes] = Adapter(name="Prometheus exposition text", order=60, detect=_detect, read=read)
