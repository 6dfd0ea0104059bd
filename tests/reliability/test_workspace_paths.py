"""Workspace folders and inbox files whose names DuckDB or Polars could read as something else: a
`key=value` folder (a Hive partition to DuckDB), a file name with `[1]` (a glob class to Polars),
and a folder path with a glob character, which no glob can escape."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline import warehouse
from pipeline.cli import app
from tests.ingest.test_telemetry_stream import TINY
from tests.reliability.test_bad_inputs import GOOD_FEB

runner = CliRunner()

# 12 samples of one GPU, a minute apart, one line each
SAMPLES = "ts,hostname,gpu,metric,value\n" + "".join(
    f"2026-02-03T10:{m:02d}:00Z,n1,0,DCGM_FI_DEV_GPU_UTIL,{m * 5}\n" for m in range(12)
)


@pytest.mark.parametrize("chunk", [None, TINY], ids=["whole", "in chunks"])
def test_a_workspace_under_a_key_value_folder_loads_files_named_with_brackets(
    tmp_path: Path, chunk: float | None
) -> None:
    # Under `team=ml/`, DuckDB read a partition column `team` off every bundle file's path, so the
    # insert into staging failed ('does not have a column with name "team"'); Polars took the
    # `[1]` of a file name for a glob class and found no file. Whole and in chunks (the billing
    # file parsed in pieces, the telemetry file streamed), every row loads. By hand: GOOD_FEB has
    # 3 billing rows; SAMPLES 12 samples; 15 raw rows in all.
    ws = tmp_path / "team=ml" / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    if chunk is not None:
        with (ws / "costledger.toml").open("a", encoding="utf-8") as handle:
            handle.write(f"\n[ingest]\nchunk_mib = {chunk}\n")
    (ws / "inbox" / "billing" / "bill[1].csv").write_bytes(GOOD_FEB)
    buffer = io.BytesIO()
    pl.read_csv(SAMPLES.encode(), infer_schema=False).write_parquet(buffer, row_group_size=4)
    (ws / "inbox" / "telemetry" / "gpu[1].parquet").write_bytes(buffer.getvalue())
    result = runner.invoke(app, ["run", "-w", str(ws), "--settle-seconds", "0"])
    assert result.exit_code == 0, result.output
    with warehouse.connect(ws / "warehouse.duckdb") as con:
        assert con.execute("select count(*) from staging.billing").fetchall() == [(3,)]
        assert con.execute("select count(*) from staging.gpu_samples").fetchall() == [(12,)]
        assert con.execute("select source, count(*) from raw.source_rows group by all order by all").fetchall() == [
            ("billing", 3),
            ("telemetry", 12),
        ]
        paths = con.execute("select path, status from meta.loads order by path").fetchall()
    assert paths == [("billing/bill[1].csv", "loaded"), ("telemetry/gpu[1].parquet", "loaded")]


@pytest.mark.parametrize("name", ["ws[1]", "ws*", "what?"])
def test_a_workspace_path_with_a_glob_character_is_refused_clearly(tmp_path: Path, name: str) -> None:
    # DuckDB reads the raw layer and a parse's chunks by glob patterns under the workspace folder,
    # and a glob cannot escape * ? [ ]: such a folder is refused by name, before anything is made.
    for command in (["init", str(tmp_path / name)], ["run", "-w", str(tmp_path / name)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert f"{tmp_path / name}: a workspace folder's path cannot hold" in result.output
        assert "rename or move the folder" in result.output
    assert not (tmp_path / name).exists()
