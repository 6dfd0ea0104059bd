"""Benchmark (not a test): the pipeline's stages on a month at scale S, M, L and F.

For each scale and format the inputs are generated once (pipeline.generators.scale, seeded; not timed) into
--data (default /tmp/costledger-scale, never the repo) and reused by later runs. F is one
2,000,000-row FOCUS file for the month (CSV: about 1.4 GB; `--scales F --formats csv`). Then, on a
fresh workspace whose inbox links to those inputs:

1. full month build (the month with all its days): each stage runs in its own child process:
   ingest (as `costledger run` loads the inbox: the writer loads each file, and parses it unless
   a thread parsing ahead of it has, see pipeline.ingest.ahead), allocate (the ledger build; its
   steps are printed as a profile), validate (GX suites + reconciliation), publish, report;
2. the floor: DuckDB's own typed load of every billing and telemetry file into a table of a fresh
   database (`create table t as select * from read_parquet(f)`, or `read_csv(f, nullstr='NULL',
   sample_size=-1)`), in a child process of its own: no build can cost less than reading its input;
3. a nightly run (not for F, a single file): a second workspace holds days 1..N-1 already built
   (not timed); day N's files (billing, telemetry, usage, FX) are added, rest 2 s as files that
   arrived before a nightly run do (see _rest), and the same stages run again (report excluded).
   With `--nights K`, the workspace holds days 1..N-K and the last K days run one night each, in
   order, as the nightly DAG would: every 7th publish also compacts the warehouse
   (pipeline.warehouse.compact), so K = 7 shows a week's nights, the compaction included.
   The ratios take the last night.

The ratios are printed beside their goals: full build / floor (<= 2), allocate / floor, nightly /
full build and nightly allocate / full allocate (<= 0.1), peak memory L / M (<= 1.5) and peak
memory at any scale (< 2 GiB).

Time is measured inside each child, after its imports (the interpreter start and imports, about
1-3 s a child, are left out and shown separately). Peak memory is the child's maximum resident
set size (ru_maxrss from os.wait4 on the child; ingest's parse threads run in the child's
process). Rows per second = input rows (billing rows + GPU samples, counted in staging after the
full ingest) / stage time. The build is ingest + allocate + validate + publish.

    python benchmarks/scale.py [--scales S M L F] [--formats parquet csv] [--data DIR] [--nights K] [--keep]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PERIOD = "2026-01"
LAST_DAY = date(2026, 1, 31)
KEY = "benchmark-pseudonym-key-0123456789"
BUILD_STAGES = ("ingest", "allocate", "validate", "publish")


# --- child side: one stage, timed after its imports ----------------------------------------------


def _child(stage: str, workspace: str, as_of: str, inputs: str) -> None:
    from pipeline import run as steps

    if stage == "allocate":
        import pipeline.ledger.build  # noqa: F401
    elif stage == "validate":
        import great_expectations  # noqa: F401  (pipeline.validate imports it when it runs: 2 s)

        import pipeline.validate  # noqa: F401
    elif stage == "report":
        import pipeline.report  # noqa: F401
    elif stage == "ingest":
        import pipeline.ingest  # noqa: F401
    began = time.perf_counter()
    detail = ""
    if stage == "ingest":
        detail = f"periods {steps.ingest(workspace)}"
    elif stage == "allocate":
        from pipeline.ledger import build

        steps.build(workspace, PERIOD, as_of=date.fromisoformat(as_of))
        profile = getattr(build, "PROFILE", [])  # the steps of the last build, where the build keeps them
        detail = "; ".join(
            f"{name} {seconds:.1f}" for name, seconds in sorted(profile, key=lambda p: -p[1]) if seconds >= 0.05
        )
    elif stage == "validate":
        steps.validate(workspace, PERIOD)
    elif stage == "publish":
        detail = f"{steps.publish(workspace, PERIOD)} ledger rows"
    elif stage == "report":
        steps.report(workspace, PERIOD)
    elif stage == "prepare":  # the nightly baseline: days 1..N-1 built, not timed
        steps.run(workspace, date=date.fromisoformat(as_of), month=PERIOD)
    elif stage == "floor":
        detail = _floor(Path(inputs), Path(workspace))
    print(json.dumps({"seconds": time.perf_counter() - began, "detail": detail}))


def _floor(inbox: Path, folder: Path) -> str:
    """DuckDB's own typed load of every billing and telemetry file into a table of a fresh
    database file: the floor for any pipeline that reads them."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "floor.duckdb"
    target.unlink(missing_ok=True)
    files = [
        p for p in sorted(inbox.rglob("*")) if p.is_file() and p.relative_to(inbox).parts[0] in ("billing", "telemetry")
    ]
    rows = 0
    with duckdb.connect(str(target)) as con:
        con.execute("set enable_progress_bar = false")
        for number, path in enumerate(files):
            name = path.name.lower()
            if name.endswith(".parquet"):
                reader = "read_parquet(?)"
            elif name.endswith((".csv", ".csv.gz")):
                reader = "read_csv(?, nullstr = 'NULL', sample_size = -1)"
            elif name.endswith((".json", ".jsonl", ".json.gz")):
                reader = "read_json_auto(?)"
            else:
                reader = "read_text(?)"
            con.execute(f"create table t{number} as select * from {reader}", [str(path)])
            rows += con.execute(f"select count(*) from t{number}").fetchone()[0]
    size = target.stat().st_size
    target.unlink(missing_ok=True)
    return f"{len(files)} files, {rows:,} rows typed into tables ({size / 2**20:.0f} MiB)"


# --- parent side ------------------------------------------------------------------------------


def _run_child(stage: str, workspace: Path, as_of: date, inputs: Path | None = None) -> dict:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), COSTLEDGER_PSEUDONYM_KEY=os.environ.get("COSTLEDGER_PSEUDONYM_KEY", KEY)
    )
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        stage,
        "--workspace",
        str(workspace),
        "--as-of",
        as_of.isoformat(),
        "--inputs",
        str(inputs or ""),
    ]
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=str(ROOT))
        _, status, usage = os.wait4(child.pid, 0)  # the child's own rusage: its peak RSS
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    rss = usage.ru_maxrss  # KiB on Linux
    if child.returncode != 0:
        return {
            "stage": stage,
            "ok": False,
            "error": (stderr.strip().splitlines() or ["exit " + str(child.returncode)])[-1],
            "wall": wall,
            "rss_kib": rss,
        }
    result = json.loads(stdout.strip().splitlines()[-1])
    return {
        "stage": stage,
        "ok": True,
        "seconds": result["seconds"],
        "detail": result["detail"],
        "wall": wall,
        "rss_kib": rss,
    }


def _inputs(data: Path, scale: str, fmt: str, seed: int) -> Path:
    """Generated once per scale, format and seed; a `.complete` marker says the folder is whole."""
    from pipeline.generators.scale import generate

    folder = data / "inputs" / f"{scale}-{fmt}-seed{seed}"
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    began = time.perf_counter()
    generate(folder, scale, fmt="csv" if fmt == "demo" else fmt, seed=seed)  # S: the demo's own formats
    seconds = time.perf_counter() - began
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    (folder / ".complete").write_text(json.dumps({"generate_seconds": seconds, "bytes": size}))
    print(f"generated {scale} {fmt} in {seconds:.1f} s ({size / 2**30:.2f} GiB) at {folder}", flush=True)
    return folder


def _workspace(inputs: Path, target: Path, *, leave_out: list[Path]) -> None:
    """A fresh workspace: the config copied, the inbox files hard-linked (no copy of the data)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(inputs / "costledger.toml", target / "costledger.toml")
    skip = {p.resolve() for p in leave_out}
    for path in (inputs / "inbox").rglob("*"):
        if path.is_file() and path.resolve() not in skip:
            _link(path, target / path.relative_to(inputs))
    for folder in ("inbox/billing", "inbox/telemetry"):
        (target / folder).mkdir(parents=True, exist_ok=True)


def _rest() -> None:
    """Let the files just linked rest as long as files that arrived before a nightly run have.
    The workspace reads a file at once (settle_seconds = 0), and a file read within
    seen.RACY_NS of its last change (a hard link changes it) cannot be known unchanged by its
    status: the next run reads it again. A nightly run reads files that arrived earlier (60 s
    unmodified by default, ingest.settle_seconds): without this rest, every night would read
    the night before's files again."""
    from pipeline.ingest.seen import RACY_NS

    time.sleep(RACY_NS / 1e9)


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _stages(workspace: Path, as_of: date, *, report: bool) -> list[dict]:
    results = []
    for name in (*BUILD_STAGES, *(("report",) if report else ())):
        result = _run_child(name, workspace, as_of)
        results.append(result)
        print(
            f"    {result['stage']:<17} "
            + (
                f"{result['seconds']:8.1f} s  {result['rss_kib'] / 2**20:5.2f} GiB  {result['detail']}"
                if result["ok"]
                else f"FAILED: {result['error']}"
            ),
            flush=True,
        )
        if not result["ok"]:
            break
    return results


def _input_rows(workspace: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        billing = con.execute("select count(*) from staging.billing").fetchone()[0]
        samples = con.execute("select count(*) from staging.gpu_samples").fetchone()[0]
        ledger = con.execute("select count(*) from ledger.cost_ledger where billing_period = ?", [PERIOD]).fetchone()[0]
        bad = con.execute(
            "select count(*) from marts.billing_reconciliation where billing_period = ? and (billed_difference <> 0 or "
            "effective_difference <> 0)",
            [PERIOD],
        ).fetchone()[0]
    return {"billing": billing, "samples": samples, "ledger": ledger, "unreconciled": bad}


def _build_seconds(stages: list[dict]) -> float | None:
    timed = [s for s in stages if s["stage"] in BUILD_STAGES]
    return sum(s["seconds"] for s in timed) if timed and all(s["ok"] for s in timed) else None


def bench(data: Path, scale: str, fmt: str, seed: int, keep: bool, nights: int = 1) -> dict:
    from pipeline.generators.scale import day_files

    inputs = _inputs(data, scale, fmt, seed)
    runs = data / "runs"
    print(f"{scale} {fmt}: full month build", flush=True)
    full = runs / f"{scale}-{fmt}-full"
    _workspace(inputs, full, leave_out=[])
    stages = _stages(full, LAST_DAY, report=True)
    rows = _input_rows(full) if stages[0]["ok"] else {}
    if not keep:
        shutil.rmtree(full, ignore_errors=True)
    floor = _run_child("floor", runs / f"{scale}-{fmt}-floor", LAST_DAY, inputs / "inbox")
    shutil.rmtree(runs / f"{scale}-{fmt}-floor", ignore_errors=True)
    print(
        f"    floor             {floor.get('seconds', float('nan')):8.1f} s  {floor['rss_kib'] / 2**20:5.2f} GiB  "
        f"{floor.get('detail', floor.get('error'))}",
        flush=True,
    )
    each_night: list[list[dict]] = []
    days = [LAST_DAY - timedelta(days=back) for back in range(nights - 1, -1, -1)] if scale != "F" else []
    files = {day: day_files(inputs, day) for day in days}
    new_day = files[LAST_DAY] if days else []
    if new_day:
        nightly_ws = runs / f"{scale}-{fmt}-nightly"
        _workspace(inputs, nightly_ws, leave_out=[p for day in days for p in files[day]])
        _rest()
        prepared = _run_child("prepare", nightly_ws, days[0] - timedelta(days=1))
        if prepared["ok"]:
            for day in days:
                print(f"{scale} {fmt}: nightly run after day {day}", flush=True)
                for path in files[day]:
                    _link(path, nightly_ws / path.relative_to(inputs))
                _rest()
                each_night.append(_stages(nightly_ws, day, report=False))
        else:
            print(f"    prepare FAILED: {prepared['error']}", flush=True)
        if not keep:
            shutil.rmtree(nightly_ws, ignore_errors=True)
    nightly = each_night[-1] if each_night else []
    return {
        "scale": scale,
        "format": fmt,
        "rows": rows,
        "stages": stages,
        "floor": floor,
        "nightly": nightly,
        "nights": each_night,
        "nightly_new_files": [p.relative_to(inputs / "inbox").as_posix() for p in new_day],
        "generated": json.loads((inputs / ".complete").read_text()),
    }


def _table(results: list[dict]) -> str:
    lines = [
        "| scale | format | stage | time (s) | child wall incl. start-up (s) | input rows/s | peak RSS (GiB) | note |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        n = r["rows"].get("billing", 0) + r["rows"].get("samples", 0)
        for kind, stages in (("", r["stages"]), ("nightly ", r["nightly"])):
            for s in stages:
                if not s["ok"]:
                    lines.append(
                        f"| {r['scale']} | {r['format']} | {kind}{s['stage']} | FAILED | {s['wall']:.1f} | | "
                        f"{s['rss_kib'] / 2**20:.2f} | {s['error'][:120]} |"
                    )
                    continue
                rate = f"{n / s['seconds']:,.0f}" if n and s["seconds"] and not kind else ""
                lines.append(
                    f"| {r['scale']} | {r['format']} | {kind}{s['stage']} | {s['seconds']:.1f} | {s['wall']:.1f} | "
                    f"{rate} | {s['rss_kib'] / 2**20:.2f} | {s['detail'][:60]} |"
                )
        floor = r["floor"]
        if floor["ok"]:
            lines.append(
                f"| {r['scale']} | {r['format']} | floor: DuckDB typed load | {floor['seconds']:.1f} | "
                f"{floor['wall']:.1f} | {n / floor['seconds']:,.0f} | {floor['rss_kib'] / 2**20:.2f} | "
                f"{floor['detail'][:60]} |"
            )
    return "\n".join(lines)


def _profiles(results: list[dict]) -> str:
    """What allocate spends its time on, step by step (pipeline.ledger.build.PROFILE)."""
    lines = []
    for r in results:
        for kind, stages in (("full", r["stages"]), ("nightly", r["nightly"])):
            for s in stages:
                if s["stage"] == "allocate" and s["ok"]:
                    lines.append(f"{r['scale']}-{r['format']} {kind} allocate {s['seconds']:.1f} s: {s['detail']}")
    return "\n".join(lines)


def _stage(stages: list[dict], name: str) -> dict | None:
    return next((s for s in stages if s["stage"] == name and s["ok"]), None)


def _ratios(results: list[dict]) -> tuple[str, dict]:
    lines, out = [], {}
    peaks = {}
    for r in results:
        build = _build_seconds(r["stages"])
        nightly = _build_seconds(r["nightly"])
        floor = r["floor"].get("seconds") if r["floor"]["ok"] else None
        allocate, nightly_allocate = _stage(r["stages"], "allocate"), _stage(r["nightly"], "allocate")
        key = f"{r['scale']}-{r['format']}"
        every_stage = r["stages"] + [s for night in r["nights"] for s in night]
        peaks[(r["scale"], r["format"])] = max((s["rss_kib"] for s in every_stage), default=0)
        rows = r["rows"]
        lines.append(
            f"{key}: {rows.get('billing', '?'):,} billing rows, {rows.get('samples', '?'):,} GPU samples -> "
            f"{rows.get('ledger', '?'):,} ledger rows; "
            f"unreconciled cells: {rows.get('unreconciled', '?')}; new files for the nightly run: "
            f"{len(r['nightly_new_files'])}"
            if rows
            else f"{key}: the full ingest failed"
        )
        if build and floor:
            out[f"{key} build/floor"] = build / floor
            lines.append(f"  full build {build:.1f} s / floor {floor:.1f} s = {build / floor:.1f}x (goal <= 2x)")
        if allocate and floor:
            out[f"{key} allocate/floor"] = allocate["seconds"] / floor
            lines.append(
                f"  allocate {allocate['seconds']:.1f} s / floor {floor:.1f} s = {allocate['seconds'] / floor:.1f}x"
            )
        if build and nightly:
            out[f"{key} nightly/build"] = nightly / build
            lines.append(
                f"  nightly, one new day {nightly:.1f} s / full build {build:.1f} s = {nightly / build:.2f} (goal <= "
                "0.1)"
            )
        totals = [_build_seconds(night) for night in r["nights"]]
        if build and len(totals) > 1 and all(totals):
            mean = sum(totals) / len(totals)  # type: ignore[arg-type]
            out[f"{key} mean night/build"] = mean / build
            lines.append(
                f"  {len(totals)} nights, one new day each: {', '.join(f'{t:.1f}' for t in totals)} s; mean "
                f"{mean:.1f} s / full build = {mean / build:.2f}"
            )
        if allocate and nightly_allocate:
            out[f"{key} nightly allocate/allocate"] = nightly_allocate["seconds"] / allocate["seconds"]
            lines.append(
                f"  nightly allocate {nightly_allocate['seconds']:.1f} s / full allocate {allocate['seconds']:.1f} s = "
                f"{nightly_allocate['seconds'] / allocate['seconds']:.2f} (goal <= 0.1)"
            )
        stage_peaks = ", ".join(f"{s['stage']} {s['rss_kib'] / 2**20:.2f}" for s in r["stages"])
        peak = peaks[(r["scale"], r["format"])] / 2**20
        lines.append(
            f"  peak memory {peak:.2f} GiB (goal < 2 GiB{': met' if peak < 2 else ': missed'}); per stage (GiB): "
            f"{stage_peaks}"
        )
    for fmt in {f for _, f in peaks}:
        m, big = peaks.get(("M", fmt)), peaks.get(("L", fmt))
        if m and big:
            out[f"{fmt} memory L/M"] = big / m
            lines.append(
                f"{fmt}: peak memory L {big / 2**20:.2f} GiB / M {m / 2**20:.2f} GiB = {big / m:.2f} (goal <= 1.5; and "
                "< 2 GiB at any scale)"
            )
    return "\n".join(lines), out


def _machine() -> str:
    load = os.getloadavg()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs, {memory:.0f} GiB RAM, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {date.today()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["S", "M", "L"], choices=["S", "M", "L", "F"])
    parser.add_argument("--formats", nargs="+", default=["parquet"], choices=["parquet", "csv"])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("/tmp/costledger-scale"),
        help="inputs cache and workspaces (outside the repo)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--nights", type=int, default=1, help="nightly runs, one per day, of the month's last days (default 1)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the workspaces after measuring")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        _child(args.stage, args.workspace, args.as_of, args.inputs)
        return
    if args.data.resolve().is_relative_to(ROOT):
        parser.error("--data must be outside the repository")
    os.environ.setdefault("COSTLEDGER_PSEUDONYM_KEY", KEY)
    print(f"machine: {_machine()}; code: {ROOT}", flush=True)
    # S is the demo estate in its own formats (FOCUS CSV billing, Prometheus JSON telemetry): once
    runs = [(scale, fmt) for scale in args.scales for fmt in (["demo"] if scale == "S" else args.formats)]
    if not 1 <= args.nights <= LAST_DAY.day - 1:
        parser.error(f"--nights must be between 1 and {LAST_DAY.day - 1}")
    results = [bench(args.data, scale, fmt, args.seed, args.keep, args.nights) for scale, fmt in runs]
    ratios_text, ratios = _ratios(results)
    print()
    print(_table(results))
    print()
    print(ratios_text)
    print()
    print(_profiles(results))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": _machine(), "results": results, "ratios": ratios}, indent=1, default=str)
        )


if __name__ == "__main__":
    main()
