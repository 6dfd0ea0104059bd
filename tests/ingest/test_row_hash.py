"""The row hash that screens rows before they are compared exactly (exact duplicate lines, a
series repeating a time)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import polars as pl

from pipeline.ingest.checks import _exact_duplicates
from pipeline.ingest.parsed import ROW, row_hash
from pipeline.ingest.telemetry.samples import SAMPLE_SCHEMA, settle


def test_equal_rows_hash_equal_and_a_value_moved_to_another_column_does_not():
    frame = pl.DataFrame(
        {"a": ["x", "y", "x", None, "q"], "b": ["y", "x", "y", "q", None]}, schema={"a": pl.String, "b": pl.String}
    )
    hashes = frame.select(row_hash([pl.col("a"), pl.col("b")])).to_series().to_list()
    # rows 1 and 3 are equal; 2 swaps row 1's values; 4 and 5 swap a value and a null
    assert hashes[0] == hashes[2]
    assert len({hashes[0], hashes[1], hashes[3], hashes[4]}) == 4


def _raw(records):
    return pl.DataFrame(
        {ROW: list(range(1, len(records) + 1)), "record": records},
        schema={ROW: pl.Int64, "record": pl.Struct({"a": pl.String, "b": pl.String})},
    )


def test_only_lines_equal_in_every_column_are_duplicates():
    # row 3 repeats row 1; row 2 swaps its values, row 4 differs in b only: not duplicates
    raw = _raw([{"a": "1", "b": "2"}, {"a": "2", "b": "1"}, {"a": "1", "b": "2"}, {"a": "1", "b": None}])
    found = _exact_duplicates(raw)
    assert found.get_column(ROW).to_list() == [3]
    assert found.get_column("reason").to_list() == ["duplicate line: identical to row 1 in every column"]
    assert _exact_duplicates(raw.filter(pl.col(ROW) != 3)).height == 0


def _samples(values):
    base = {c: None for c in SAMPLE_SCHEMA}
    rows = []
    for n, (gpu, value) in enumerate(values, start=1):
        rows.append(
            base
            | {
                "metric": "DCGM_FI_DEV_GPU_UTIL",
                "ts": datetime(2026, 1, 5, 10),
                "step_seconds": 60,
                "hostname": "node-1",
                "gpu": gpu,
                "value": Decimal(value),
                ROW: n,
                "_order": n - 1,
            }
        )
    schema = {ROW: pl.Int64, **SAMPLE_SCHEMA, "_order": pl.UInt32}
    return pl.DataFrame(rows, schema=schema)


def test_a_series_repeating_a_time_is_folded_or_quarantined_and_others_are_kept():
    empty = pl.DataFrame(schema={ROW: pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String})
    # gpu 0: twice with 50 (one folded); gpu 1: 10 and 20 (both quarantined); gpu 2: once
    rows, rejects, folded = settle(_samples([("0", "50"), ("1", "10"), ("0", "50"), ("1", "20"), ("2", "7")]), empty)
    assert folded == 1
    assert rows.get_column(ROW).to_list() == [1, 5]
    assert sorted(rejects.get_column(ROW).to_list()) == [2, 4]
    # no series repeats a time: every sample kept, nothing folded
    rows, rejects, folded = settle(_samples([("0", "50"), ("1", "50"), ("2", "50")]), empty)
    assert (rows.height, rejects.height, folded) == (3, 0, 0)
