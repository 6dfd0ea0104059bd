"""A nightly build keeps what earlier telemetry gave (the GPU pools' hourly pass, the owned servers'
parts) and makes again only what the new samples can change. Two edges where a new day changes an
earlier one: a sample shortly before midnight holds its GPU until the new day's first sample (the
gap rule), and an energy counter's last reading before a silence takes its energy from the next
reading, however late. Either way the ledger must be the one a build from nothing gives."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from pipeline import run, warehouse
from pipeline.generators.scale import Spec, generate
from pipeline.ledger import build

pytestmark = pytest.mark.slow
# 3 days of January (60 s samples, telemetry_gap_steps 2): cloud pool nodes gpu-node-0000 and
# -0001, and the owned server dc1-gpu-0002 (8 GPUs, power readings)
SPEC = Spec(billing_rows=600, gpus=24, people=4, models=3, owned_hosts=1, days=3)
OWNED = "dc1-gpu-0002"
COUNTER = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"


def _ledger(root) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select * exclude (run_id) from ledger.cost_ledger order by lineage_id").fetchall()


def _edit_telemetry(root, *, counter: bool) -> None:
    """Day 2 ends at 23:58 on gpu-node-0000 and the owned server: their last samples hold one step
    and a gap, until day 3's first sample at 00:00 (120 s later, within the gap rule) makes them
    hold to midnight. `counter`: the owned server reads an energy counter (250 W a GPU) instead of
    power, and its GPU 1 is silent from 1 Jan 23:00 to day 3, so its 22:59 reading's energy is
    the increase to day 3's first reading."""
    for path in sorted(root.glob("inbox/telemetry/*.parquet")):
        samples = pl.read_parquet(path)
        if counter:
            power = (pl.col("hostname") == OWNED) & (pl.col("metric") == "DCGM_FI_DEV_POWER_USAGE")
            millijoules = (pl.col("ts") - datetime(2025, 12, 1)).dt.total_seconds() * 250_000.0
            samples = samples.with_columns(
                pl.when(power).then(pl.lit(COUNTER)).otherwise(pl.col("metric")).alias("metric"),
                pl.when(power).then(millijoules).otherwise(pl.col("value")).alias("value"),
            )
        gpu_1 = (pl.col("hostname") == OWNED) & (pl.col("gpu") == "1")
        drop = pl.lit(False)
        if path.name == "gpu-2026-01-02.parquet":
            drop = pl.col("hostname").is_in(["gpu-node-0000", OWNED]) & (pl.col("ts") >= datetime(2026, 1, 2, 23, 59))
            drop = drop | (gpu_1 & pl.lit(counter))
        elif path.name == "gpu-2026-01-01.parquet":
            drop = gpu_1 & pl.lit(counter) & (pl.col("ts") >= datetime(2026, 1, 1, 23))
        samples.filter(~drop).write_parquet(path)


@pytest.mark.parametrize(
    ("counter", "owned_from"),
    [
        (False, (date(2026, 1, 2), date(2026, 1, 3))),
        (True, (date(2026, 1, 2), date(2026, 1, 1))),
    ],
)
def test_a_new_day_that_changes_an_earlier_one(tmp_path, monkeypatch, counter, owned_from):
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    root = generate(tmp_path / "w", "tiny", spec=SPEC)
    _edit_telemetry(root, counter=counter)
    held_back = tmp_path / "day3"
    held_back.mkdir()
    for path in sorted(root.glob("inbox/*/*2026-01-03*")):
        shutil.move(path, held_back / f"{path.parent.name}__{path.name}")
    run.run(root, date=date(2026, 1, 3))

    days_made: list[tuple[date | None, date | None]] = []
    real = build.owned_days

    def spy(*args, **kwargs):
        made = real(*args, **kwargs)
        days_made.append((made.first_day, made.energy_day))
        return made

    monkeypatch.setattr(build, "owned_days", spy)
    for moved in held_back.iterdir():
        folder, name = moved.name.split("__")
        shutil.move(moved, root / "inbox" / folder / name)
    run.run(root, date=date(2026, 1, 3))
    # the hardware parts are made again from day 2 (day 3's first sample, 00:00, less the reach of
    # 2 steps is 2 Jan 23:58); the energy parts from day 3 when the server reads power (a reading's
    # energy is its own), from day 1 with the counter (GPU 1's last reading, 1 Jan 22:59, takes
    # its energy from day 3's first); never kept where they can change
    assert days_made == [owned_from]
    nightly = _ledger(root)

    with warehouse.connect(root / "warehouse.duckdb") as con:  # forget what was kept: from nothing
        for table in ("gpu_held", "gpu_held_loads", "owned_loads", "candidate_builds"):
            con.execute(f"delete from ledger.{table}")
    run.run(root, date=date(2026, 1, 3), month="2026-01")
    assert build.COUNTS["billing rows routed"] == 600  # the whole month again (3 files of 200)
    assert _ledger(root) == nightly
