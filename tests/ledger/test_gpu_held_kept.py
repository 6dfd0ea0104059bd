"""The GPU pools' hourly pass over telemetry is kept (ledger.gpu_held): a nightly build after a new
day of telemetry passes only over the hours from that day on (plus the gap rule's reach back),
and the ledger is the one a build from nothing gives."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from pipeline import run, warehouse
from pipeline.generators.scale import Spec, generate
from pipeline.ledger import build, gpu_pass

pytestmark = pytest.mark.slow
# 3 days of January; gpu-node-0000 and -0001 (cloud pool nodes, hourly billing rows) and an owned server
SPEC = Spec(billing_rows=600, gpus=24, people=4, models=3, owned_hosts=1, days=3)
DAY_3 = datetime(2026, 1, 3)


def _ledger(root) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select * exclude (run_id) from ledger.cost_ledger order by lineage_id").fetchall()


def test_a_new_day_of_telemetry_is_passed_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    root = generate(tmp_path / "w", "tiny", spec=SPEC)
    held_back = tmp_path / "day3"
    held_back.mkdir()
    day3 = sorted(root.glob("inbox/*/*2026-01-03*"))
    assert len(day3) == 4  # billing, telemetry, usage, fx
    for path in day3:
        shutil.move(path, held_back / f"{path.parent.name}__{path.name}")
    run.run(root, date=date(2026, 1, 3))

    passes: list[datetime] = []  # the first sample time each pool pass reads
    real_held = gpu_pass.held_frames

    def spy(samples, config, policy, *, every):
        if isinstance(samples, gpu_pass.WarehouseSamples) and every == "1h":
            passes.append(samples.lo)
        return real_held(samples, config, policy, every=every)

    monkeypatch.setattr(gpu_pass, "held_frames", spy)
    for moved in held_back.iterdir():
        folder, name = moved.name.split("__")
        shutil.move(moved, root / "inbox" / folder / name)
    run.run(root, date=date(2026, 1, 3))
    # one pool, one pass, never from the month's first day: the hours from the one the gap rule's
    # reach (telemetry_gap_steps x 60 s steps) before day 3 falls in (a sample that close to day 3
    # may hold its GPU until day 3's first sample), read from as long again before that hour
    with warehouse.connect(root / "warehouse.duckdb") as con:
        gap_steps = con.execute("select telemetry_gap_steps from meta.telemetry_settings").fetchall()[0][0]
    reach = timedelta(seconds=60 * gap_steps)  # 2 steps: 120 s, so the hour is 2 Jan 23:00
    assert passes == [(DAY_3 - reach).replace(minute=0) - reach]
    # and only day 3's billing rows are routed: its file's 200 rows (600 rows over 3 days); the node
    # rows split by GPU time are those of the hours passed: 2 cloud nodes x 25 hours = 50
    assert build.COUNTS["billing rows routed"] == 200
    assert build.COUNTS["GPU node rows split"] == 50
    nightly = _ledger(root)

    with warehouse.connect(root / "warehouse.duckdb") as con:  # forget the kept pass: from nothing
        con.execute("delete from ledger.gpu_held")
        con.execute("delete from ledger.gpu_held_loads")
    passes.clear()
    monkeypatch.setattr(gpu_pass, "PASS_SAMPLES", 1)  # and pass each host on its own: the same ledger
    hosts_passed: list[tuple[str, ...]] = []
    real_pass = gpu_pass.held_frame

    def spy_pass(samples, config, policy, *, every, numbered=None):
        if every == "1h":
            hosts_passed.append(samples.hosts)
        return real_pass(samples, config, policy, every=every, numbered=numbered)

    monkeypatch.setattr(gpu_pass, "held_frame", spy_pass)
    run.run(root, date=date(2026, 1, 3), month="2026-01")
    assert len(passes) == 1 and passes[0] < datetime(2026, 1, 1, 1)  # the whole window again
    assert hosts_passed == [("gpu-node-0000",), ("gpu-node-0001",)]
    assert _ledger(root) == nightly


@pytest.mark.parametrize(
    ("last_end", "window_end"),
    [
        # a month's last hourly charge ends at midnight of the 1st: the window is still the month,
        # as it was the night before (31 Jan 00:00 + 1 day), so the kept pass's key is unchanged
        (datetime(2026, 1, 31), datetime(2026, 2, 1)),
        (datetime(2026, 2, 1), datetime(2026, 2, 1)),
        # a charge reaching into 1 Feb 01:00 needs that day's samples: the window takes it whole
        (datetime(2026, 2, 1, 1), datetime(2026, 2, 2)),
    ],
)
def test_the_sample_window_ends_where_the_last_charge_ends_in_whole_days(last_end, window_end):
    from pipeline.ledger.gpu_samples import sample_window

    with duckdb.connect() as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.billing (ChargePeriodStart timestamp, ChargePeriodEnd timestamp, "
            "x_BillingPeriod varchar)"
        )
        con.execute(
            "insert into staging.billing values ('2025-12-31 23:00', '2026-01-01 00:00', '2026-01'), "
            "(?::timestamp - interval 1 hour, ?, '2026-01')",
            [last_end, last_end],
        )
        # the first charge starts on 31 Dec 23:00: the window starts that day
        assert sample_window(con, "2026-01") == (datetime(2025, 12, 31), window_end)


def _telemetry_days(root) -> tuple[list[tuple], list[tuple]]:
    """ledger.telemetry_days, and the same summary the test adds up from staging.gpu_samples."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        kept = con.execute("select * from ledger.telemetry_days order by all").fetchall()
        samples = con.sql("select load_id, hostname, ts, step_seconds from staging.gpu_samples").pl()
    reference = (
        samples.group_by("load_id", "hostname", pl.col("ts").dt.date().alias("day"))
        .agg(
            pl.col("ts").min().alias("first_ts"),
            pl.col("ts").max().alias("last_ts"),
            pl.col("step_seconds").max().alias("step"),
            pl.len().alias("samples"),
        )
        .sort(pl.all())
        .rows()
    )
    return kept, reference


def test_telemetry_days_add_up_each_staged_file_and_forget_a_replaced_one(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    root = generate(tmp_path / "w", "tiny", spec=SPEC)
    run.run(root, date=date(2026, 1, 3))
    kept, reference = _telemetry_days(root)
    # 3 daily files, each of its own day, x 3 hosts (the pool nodes gpu-node-0000 and -0001, the
    # owned dc1-gpu-0002): 9 rows, each the first and last sample, longest step and count
    assert kept == reference and len(kept) == 9
    assert {row[1] for row in kept} == {"gpu-node-0000", "gpu-node-0001", "dc1-gpu-0002"}

    day_2 = root / "inbox" / "telemetry" / "gpu-2026-01-02.parquet"  # a new version: node 0 stops at noon
    node_0 = pl.col("hostname") == "gpu-node-0000"
    pl.read_parquet(day_2).filter(~(node_0 & (pl.col("ts") >= datetime(2026, 1, 2, 12)))).write_parquet(day_2)
    run.run(root, date=date(2026, 1, 3))
    replaced, reference = _telemetry_days(root)
    assert replaced == reference and len(replaced) == 9  # the old version's 3 rows gone, the new one's 3 added
    assert len({row[0] for row in kept} - {row[0] for row in replaced}) == 1
    [last] = [row[4] for row in replaced if row[1] == "gpu-node-0000" and row[2] == date(2026, 1, 2)]
    assert last == datetime(2026, 1, 2, 11, 59)  # 60 s samples: the last one before noon
    nightly = _ledger(root)

    with warehouse.connect(root / "warehouse.duckdb") as con:  # forget what was kept: from nothing
        for table in ("telemetry_days", "gpu_held", "gpu_held_loads", "owned_loads", "candidate_builds"):
            con.execute(f"delete from ledger.{table}")
    run.run(root, date=date(2026, 1, 3), month="2026-01")
    assert _telemetry_days(root)[0] == replaced
    assert _ledger(root) == nightly


def test_telemetry_days_are_read_for_whole_days_only():
    with duckdb.connect() as con:
        samples = gpu_pass.WarehouseSamples(con, datetime(2026, 1, 1, 6), datetime(2026, 1, 2))
        with pytest.raises(ValueError, match="whole days"):
            samples.source(con, days=True)


def test_a_pass_reads_its_hosts_samples_under_the_host_name_or_the_instance_id():
    # the hosts i-0abc (an instance id), node-a and x.y; a sample's hostname is a host's, or its
    # first DNS label is: i-0abc.ec2.internal and node-a.lan take the host's name; x.y.z does not
    # (its first label, x, is no host), nor node-ab, other, a null hostname, or a sample outside
    # the window (before 1 Jan 06:00)
    inside, outside = datetime(2026, 1, 1, 12), datetime(2026, 1, 1, 5)
    rows = [
        ("i-0abc.ec2.internal", inside, 1),
        ("i-0abc", inside, 2),
        ("node-a", inside, 3),
        ("node-a.lan", inside, 4),
        ("node-ab", inside, 5),
        ("x.y", inside, 6),
        ("x.y.z", inside, 7),
        ("other", inside, 8),
        (None, inside, 9),
        ("node-a", outside, 10),
    ]
    with duckdb.connect() as con:
        con.execute("create schema staging")
        con.execute("create table staging.gpu_samples (hostname varchar, ts timestamp, n integer)")
        con.executemany("insert into staging.gpu_samples values (?, ?, ?)", rows)
        window = gpu_pass.WarehouseSamples(con, datetime(2026, 1, 1, 6), datetime(2026, 1, 2))

        def read(samples: gpu_pass.WarehouseSamples) -> list[tuple]:
            source, params = samples.source(con)
            return con.execute(f"select hostname, n from {source} order by n", params).fetchall()

        hosts = ["i-0abc", "node-a", "x.y"]
        assert read(window.of_hosts(hosts)) == [
            ("i-0abc", 1),
            ("i-0abc", 2),
            ("node-a", 3),
            ("node-a", 4),
            ("x.y", 6),
        ]
        # by the hostname alone (the owned servers)
        assert read(window.of_hosts(hosts, short_names=False)) == [("i-0abc", 2), ("node-a", 3), ("x.y", 6)]
