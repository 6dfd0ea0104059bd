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
file's modification time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.parse import ROW, Parsed, decode_text, line_records
from pipeline.ingest.telemetry.samples import LABELS, WORKLOAD, canonical_labels, finish

FORMAT = "prometheus-exposition"
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_SCRAPE_COMMENT = re.compile(r"^#\s*scrape_time\s*[:=]?\s*(\S+)\s*$", re.IGNORECASE)
_META = re.compile(r"^#\s*(HELP|TYPE)\s+([A-Za-z_:][A-Za-z0-9_:]*)")
_NAME_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[T_ ](\d{2}):?(\d{2}):?(\d{2})Z?")


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
    for line in text.splitlines():
        match = _SCRAPE_COMMENT.match(line.strip())
        if match and (moment := _time_text(match.group(1))) is not None:
            return moment, "scrape_time comment"
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


def read(path: Path, data: bytes, *, default_step: int = 60) -> Parsed:
    text = decode_text(data, path)
    raw, records, bad = [], [], []
    scrapes = _Scrapes()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            scrapes.comment(stripped)
            continue
        raw.append((len(raw) + 1, stripped))
        row = len(raw)
        match = _SAMPLE.match(stripped)
        if match is None:
            bad.append((row, "line", stripped[:200], f"line {number}: expected `metric{{labels}} value [timestamp]`"))
            continue
        name, body, value, stamp = match.groups()
        labels = {k: _unescape(v) for k, v in _LABEL.findall(body or "")}
        records.append(
            {
                ROW: row,
                "metric": name,
                "_ms": int(stamp) if stamp is not None else None,
                "_scrape": scrapes.sample(name, labels),
                "value": value,
                **canonical_labels(labels),
            }
        )
    if not raw:
        raise InputError('no samples: expected lines like `DCGM_FI_DEV_GPU_UTIL{gpu="0",...} 42`', path=path)
    schema = {
        ROW: pl.Int64,
        "metric": pl.String,
        "_ms": pl.Int64,
        "_scrape": pl.Int64,
        "value": pl.String,
        **{c: pl.String for c in (*LABELS, *WORKLOAD, "labels")},
    }
    frame = pl.DataFrame(records, schema=schema)
    notes = []
    untimed = frame.filter(pl.col("_ms").is_null())
    last_scrape = int(frame.get_column("_scrape").max() or 0)
    if untimed.height:
        scraped, origin = scrape_time(text, path)
        if last_scrape == 0:
            notes.append(f"samples without a timestamp take the scrape time {scraped:%Y-%m-%d %H:%M:%S} ({origin})")
        else:
            first = scraped - timedelta(seconds=default_step * last_scrape)
            notes.append(
                f"{last_scrape + 1} scrapes; samples without a timestamp take their scrape's time: the last "
                f"{scraped:%Y-%m-%d %H:%M:%S} ({origin}), each earlier one {default_step} s before the next "
                f"(the first {first:%Y-%m-%d %H:%M:%S})"
            )
    else:
        scraped = None
    before_last = pl.duration(seconds=(last_scrape - pl.col("_scrape")) * default_step, time_unit="us")
    frame = frame.with_columns(
        pl.coalesce(
            pl.from_epoch("_ms", time_unit="ms").cast(pl.Datetime("us")),
            pl.lit(scraped, dtype=pl.Datetime("us")) - before_last,
        ).alias("ts"),
        pl.lit(None, dtype=pl.Int32).alias("step_seconds"),
    ).drop("_ms", "_scrape")
    rows, rejects, counts = finish(frame, default_step=default_step)
    if bad:
        rejects = pl.concat([rejects, pl.DataFrame(bad, schema=rejects.schema, orient="row")])
    notes += [f"{n} {what.replace('_', ' ')}" for what, n in counts.items() if n]
    return Parsed(
        format=FORMAT,
        raw=line_records(raw),
        rows=rows,
        rejects=rejects.sort(ROW),
        notes=notes,
    )
