"""dcgm-exporter scrapes in the Prometheus text exposition format -> staging.gpu_samples rows.

`name{label="value",...} value [timestamp_ms]`, one sample a line; `#` lines are comments. A
sample without its own timestamp takes the scrape time of the file: a `# scrape_time <ISO or
epoch seconds>` comment if there is one, else a date-time in the file name
(`...2026-01-05T10:00:00Z.prom` or `...20260105T100000Z...`), else the file's modification time.
One raw row per sample line."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from pipeline.errors import InputError
from pipeline.ingest.dcgm import LABELS, WORKLOAD, canonical_labels, finish
from pipeline.ingest.parse import ROW, Parsed, decode_text, line_records

FORMAT = "prometheus-exposition"
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_SCRAPE_COMMENT = re.compile(r"^#\s*scrape_time\s*[:=]?\s*(\S+)\s*$", re.IGNORECASE)
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
            return datetime.fromtimestamp(float(value), tz=timezone.utc).replace(tzinfo=None)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


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
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(tzinfo=None, microsecond=0)
    return mtime, "file modification time"


def read(path: Path, data: bytes, *, default_step: int = 60) -> Parsed:
    text = decode_text(data, path)
    raw, records, bad = [], [], []
    needs_scrape_time = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        raw.append((len(raw) + 1, stripped))
        row = len(raw)
        match = _SAMPLE.match(stripped)
        if match is None:
            bad.append((row, "line", stripped[:200], f"line {number}: expected `metric{{labels}} value [timestamp]`"))
            continue
        name, body, value, stamp = match.groups()
        labels = {k: _unescape(v) for k, v in _LABEL.findall(body or "")}
        needs_scrape_time |= stamp is None
        records.append({ROW: row, "metric": name, "_ms": int(stamp) if stamp is not None else None, "value": value, **canonical_labels(labels)})
    if not raw:
        raise InputError("no samples: expected lines like `DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",...} 42`", path=path)
    notes = []
    scraped = None
    if needs_scrape_time:
        scraped, origin = scrape_time(text, path)
        notes.append(f"samples without a timestamp take the scrape time {scraped:%Y-%m-%d %H:%M:%S} ({origin})")
    schema = {ROW: pl.Int64, "metric": pl.String, "_ms": pl.Int64, "value": pl.String, **{c: pl.String for c in (*LABELS, *WORKLOAD, "labels")}}
    frame = pl.DataFrame(records, schema=schema).with_columns(
        pl.coalesce(pl.from_epoch("_ms", time_unit="ms").cast(pl.Datetime("us")), pl.lit(scraped, dtype=pl.Datetime("us"))).alias("ts"),
        pl.lit(None, dtype=pl.Int32).alias("step_seconds"),
    ).drop("_ms")
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
