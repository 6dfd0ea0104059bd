"""A telemetry file larger than `[ingest] chunk_mib` is parsed a chunk at a time
(pipeline.ingest.telemetry.stream); what it loads must be exactly what the same file loads whole.

Each test writes one file into two fresh workspaces, one with a chunk of a few hundred bytes (two
to five lines of these files) and one with the default (the file loads whole), runs `costledger
run` on both and compares what the load left: meta.loads (format, counts, message, periods),
meta.quarantine (row, column, value, reason), raw.source_rows and staging.gpu_samples. The files
hold what a whole-file parse decides across the file: copies of a sample and samples that
disagree, in different chunks; sentinels; bad values; exact duplicate lines."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline import warehouse
from pipeline.cli import app
from pipeline.ingest.parse import ROW

runner = CliRunner()
_FUTURE = re.compile(r"the future \(after [^)]*\)")

TINY = 0.0003  # MiB: 314 bytes
MONTH = "2026-01"


def _workspace(root: Path, name: str, data: bytes, *, chunk: float | None, config: str) -> Path:
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    extra = config + (f"\n[ingest]\nchunk_mib = {chunk}\n" if chunk is not None else "")
    with (root / "costledger.toml").open("a", encoding="utf-8") as handle:
        handle.write(extra)
    (root / "inbox" / "telemetry" / name).write_bytes(data)
    return root


def _facts(root: Path) -> dict:
    with warehouse.connect(root / "warehouse.duckdb") as con:
        loads = con.execute(
            "select path, status, detected_format, rows_in, rows_loaded, rows_quarantined, message, periods "
            "from meta.loads where source = 'telemetry' order by path"
        ).fetchall()
        quarantine = con.execute(
            'select row_number, "column", value, reason from meta.quarantine order by all'
        ).fetchall()
        raw = con.execute("select row_number, record::varchar from raw.source_rows order by all").fetchall()
        samples = con.execute("select * exclude (load_id) from staging.gpu_samples order by all").fetchall()
        steps = con.execute("select distinct gpu, step_seconds from staging.gpu_samples order by all").fetchall()
    loads = [(*load[:6], load[6].replace(str(root), "<ws>"), load[7]) for load in loads]
    quarantine = [(*row[:3], _FUTURE.sub("the future", row[3])) for row in quarantine]  # now: the run's minute
    return {"loads": loads, "quarantine": quarantine, "raw": raw, "samples": samples, "steps": steps}


def _both(tmp_path: Path, name: str, data: bytes, *, config: str = "") -> tuple[dict, dict]:
    """(facts of the file parsed in chunks, facts of it parsed whole); the exits agree."""
    streamed = _workspace(tmp_path / "streamed", name, data, chunk=TINY, config=config)
    whole = _workspace(tmp_path / "whole", name, data, chunk=None, config=config)
    results = [
        runner.invoke(app, ["run", "-w", str(root), "--month", MONTH, "--settle-seconds", "0"])
        for root in (streamed, whole)
    ]
    assert results[0].exit_code == results[1].exit_code, (results[0].output, results[1].output)
    parsed = streamed / "work" / "parsed"
    assert not parsed.exists() or not list(parsed.iterdir())  # the chunks' bundle is gone once loaded
    return _facts(streamed), _facts(whole)


def _long_lines() -> list[str]:
    labels = '"{""Hostname"":""n1"",""exported_pod"":""train-0"",""exported_namespace"":""ml""}"'
    lines = [f"2026-01-05T10:{m:02d}:00Z,{m % 2},DCGM_FI_DEV_GPU_UTIL,{m * 3},{labels}" for m in range(30)]
    lines[4] = lines[1]  # an exact copy of an earlier line, chunks apart: folded, and quarantined as a duplicate
    lines[25] = lines[2].replace(",6,", ",7,")  # the same sample with another value: both quarantined
    lines[9] = lines[9].replace(",27,", ",9223372036854775794,")  # a DCGM sentinel: dropped
    lines[12] = lines[12].replace(",36,", ",n/a,")  # not a number
    lines[17] = lines[17].replace("2026-01-05", "2099-01-05")  # in the future
    lines[21] = lines[21].replace(",1,DCGM", ",,DCGM")  # no GPU
    return lines


def _long_csv() -> bytes:
    return ("ts,gpu,metric,value,labels\n" + "\n".join(_long_lines()) + "\n").encode()


def _assert_same(got: dict, whole: dict) -> None:
    assert got == whole
    assert got["loads"][0][1] == "loaded" and got["samples"] and got["quarantine"]


def test_long_samples_csv_in_chunks_loads_as_the_whole_file(tmp_path: Path) -> None:
    got, whole = _both(tmp_path, "samples.csv", _long_csv())
    _assert_same(got, whole)
    reasons = {row[0]: row[3] for row in got["quarantine"]}
    assert reasons[5] == "duplicate line: identical to row 2 in every column"
    assert reasons[3] == reasons[26] == "another sample of the same series and time has a different value"
    assert {13, 18, 22} <= set(reasons)
    assert "1 sentinel samples dropped" in got["loads"][0][6] and "1 duplicate samples folded" in got["loads"][0][6]


def test_long_samples_gzip_in_chunks_loads_as_the_whole_file(tmp_path: Path) -> None:
    got, whole = _both(tmp_path, "samples.csv.gz", gzip.compress(_long_csv(), mtime=0))
    _assert_same(got, whole)


def test_long_samples_parquet_in_row_groups_loads_as_the_whole_file(tmp_path: Path) -> None:
    frame = pl.read_csv(_long_csv(), infer_schema=False)
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=3, compression="uncompressed")
    got, whole = _both(tmp_path, "samples.parquet", buffer.getvalue())
    _assert_same(got, whole)
    assert got["loads"][0][2] == "gpu-samples-long-parquet"


NVIDIA = '[[nvidia_smi]]\npath_pattern = "box"\nhostname = "box"\ntimezone = "Europe/Berlin"\n'


def _nvidia_lines() -> list[str]:
    # GPU 0 every minute, GPU 1 every two minutes: each GPU's step is found across chunks
    lines = [
        f"2026/01/05 11:{m:02d}:00.000, NVIDIA L40S, {g}, {m + g} %, {200 + m}.5 W"
        for m in range(0, 24)
        for g in (0, 1)
        if g == 0 or m % 2 == 0
    ]
    lines[30] = lines[3]  # an exact copy, chunks apart
    lines[33] = lines[5].replace("%,", "%,").replace(".5 W", ".7 W")  # the same GPU and time, another power
    lines[7] = lines[7].replace(" %,", " %,").split(",")[0] + ", NVIDIA L40S, 0, [N/A], 300 W"  # a sentinel
    lines[11] = "2026/13/05 11:99:00.000" + lines[11][23:]  # no such time
    lines[14] = lines[14].replace(" W", " watts?")  # not a number
    return lines


def test_nvidia_smi_log_in_chunks_loads_as_the_whole_file(tmp_path: Path) -> None:
    header = "timestamp, name, index, utilization.gpu [%], power.draw [W]\n"
    data = (header + "\n".join(_nvidia_lines()) + "\n").encode()
    got, whole = _both(tmp_path, "box.csv", data, config=NVIDIA)
    _assert_same(got, whole)
    assert {sample[:2] for sample in got["steps"]} == {("0", 60), ("1", 120)}  # the step of each GPU


def test_headerless_nvidia_smi_log_in_chunks_loads_as_the_whole_file(tmp_path: Path) -> None:
    columns = 'columns = ["timestamp", "name", "index", "utilization.gpu", "power.draw"]\n'
    data = ("\n".join(_nvidia_lines()) + "\n").encode()
    got, whole = _both(tmp_path, "box.log", data, config=NVIDIA + columns)
    _assert_same(got, whole)


def _scrape(n: int, *, stamp: str = "") -> str:
    lines = ["# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).", "# TYPE DCGM_FI_DEV_GPU_UTIL gauge"]
    for gpu in range(3):
        value = "NaN" if (n, gpu) == (2, 1) else str(10 * n + gpu)
        lines.append(
            f'DCGM_FI_DEV_GPU_UTIL{{gpu="{gpu}",Hostname="n1",exported_pod="p-{gpu}",exported_namespace="ml"}} '
            f"{value}{stamp}"
        )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("comment", [False, True])
def test_exposition_scrapes_in_chunks_load_as_the_whole_file(tmp_path: Path, comment: bool) -> None:
    # five scrapes without timestamps (each takes its scrape's time: the last one's from the file
    # name, or from a scrape_time comment in the last scrape), then samples with their own timestamp:
    # one repeated (folded), one repeated with another value (both quarantined), one not a sample
    scrapes = [_scrape(n) for n in range(5)]
    if comment:
        scrapes[4] = "# scrape_time 2026-01-05T12:00:00Z\n" + scrapes[4]
    stamped = [
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 100 1767607200000',
        'DCGM_FI_DEV_POWER_USAGE{gpu="1",Hostname="n1"} 90 1767607200000',
        "not a sample line",
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 100 1767607200000',
        'DCGM_FI_DEV_POWER_USAGE{gpu="1",Hostname="n1"} 95 1767607200000',
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="n1"} abc 1767607200000',
    ]
    data = ("".join(scrapes) + "\n".join(stamped) + "\n").encode()
    got, whole = _both(tmp_path, "n1-2026-01-05T11:00:00Z.prom", data)
    _assert_same(got, whole)
    message = got["loads"][0][6]
    assert "6 scrapes" in message and "1 sentinel samples dropped" in message and "duplicate samples folded" in message
    assert any(
        row[3] == "another sample of the same series and time has a different value" for row in got["quarantine"]
    )


def test_a_prometheus_answer_larger_than_a_chunk_is_parsed_whole(tmp_path: Path) -> None:
    answer = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": str(g), "Hostname": "n1"},
                    "values": [[1767607200 + 60 * i, str(i)] for i in range(20)],
                }
                for g in range(4)
            ],
        },
    }
    got, whole = _both(tmp_path, "answer.json", json.dumps(answer).encode())
    assert got == whole and got["loads"][0][3] == 4


def test_rows_are_numbered_as_in_the_whole_file(tmp_path: Path) -> None:
    got, _ = _both(tmp_path, "samples.csv", _long_csv())
    assert [row[0] for row in got["raw"]] == list(range(1, 31))
    assert ROW == "row_number"


def _refused(tmp_path: Path, relative: str, data: bytes, config: str) -> tuple[str, tuple]:
    root = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    with (root / "costledger.toml").open("a", encoding="utf-8") as handle:
        handle.write(config)
    (root / "inbox" / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / "inbox" / relative).write_bytes(data)
    result = runner.invoke(app, ["run", "-w", str(root), "--month", MONTH, "--settle-seconds", "0"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and relative in errors[0], result.output
    with warehouse.connect(root / "warehouse.duckdb") as con:
        load = con.execute(
            "select status, rows_in, rows_loaded, message from meta.loads where path = ?", [relative]
        ).fetchone()
    assert load[3].count("\n") == 0 and relative in load[3]  # one line, naming the file
    return load[3], load[:3]


def test_a_prometheus_answer_larger_than_max_document_mib_is_refused_unread(tmp_path: Path) -> None:
    values = [[1767607200 + i, "1"] for i in range(80_000)]  # about 1.5 MiB
    answer = {"data": {"resultType": "matrix", "result": [{"metric": {"gpu": "0"}, "values": values}]}}
    error, load = _refused(
        tmp_path, "telemetry/answer.json", json.dumps(answer).encode(), "[ingest]\nmax_document_mib = 1\n"
    )
    assert "a JSON document larger than 1 MiB (ingest.max_document_mib)" in error
    assert load == ("rejected", 0, 0)


def test_a_table_larger_than_max_table_mib_is_refused_unread(tmp_path: Path) -> None:
    rows = "".join(f"2026-01-05,model-{i},{i},{i},{i}\n" for i in range(60_000))  # about 1.7 MiB
    data = ("usage_date,model_id,requests,input_tokens,output_tokens\n" + rows).encode()
    error, load = _refused(tmp_path, "usage/usage.csv", data, "[ingest]\nmax_table_mib = 1\n")
    assert "larger than 1 MiB (ingest.max_table_mib)" in error
    assert load == ("rejected", 0, 0)
