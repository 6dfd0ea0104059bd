"""A build routes each billing file once and keeps its rows (the kept candidate,
ledger.cost_ledger_candidate): the next night allocates only the new file, the shared-pool rows'
days whose weights the new file changes (here a tax pool split by each day's direct cost) are split
again, and the ledger is the one a build from nothing gives. A config change, or a file replaced
by a new version, drops what was kept for it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline import run, warehouse
from pipeline.ledger import build
from pipeline.workspace import CONFIG_FILE, Workspace
from tests.ledger.test_tax_pool import CONFIG_TOML, HEADER  # two models, tag key `model`, a proportional tax pool

PERIOD = "2026-01-01,2026-02-01"


def _usage(day: int, model: str, cost: str) -> str:
    return (
        f'{PERIOD},2026-01-{day:02d},2026-01-{day + 1:02d},Usage,{cost},{cost},USD,AWS,EC2,"{{""model"": ""{model}""}}"'
    )


def _write(ws: Workspace, name: str, lines: list[str]) -> None:
    (ws.inbox / "billing" / name).write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")


def _kept(ws: Workspace) -> list[tuple]:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute(
            "select a.recipe, l.path, a.rows_in, a.parts, a.deferred, a.allocated_at from ledger.billing_allocated as "
            "a "
            "join meta.loads as l using (load_id) order by l.path"
        ).fetchall()


def _tax(ws: Workspace) -> list[tuple]:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute(
            "select model_id, sum(billed_cost) from ledger.cost_ledger where subcategory = 'tax' group by all order by "
            "model_id"
        ).fetchall()


def _ledger(ws: Workspace) -> list[tuple]:
    with warehouse.connect(ws.warehouse) as con:
        return con.execute("select * exclude (run_id) from ledger.cost_ledger order by lineage_id").fetchall()


def test_a_nightly_build_routes_only_the_new_file_and_matches_a_build_from_nothing(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    _write(
        ws,
        "jan-05.csv",
        [
            _usage(5, "search", "30.00"),
            _usage(5, "rec", "10.00"),
            f"{PERIOD},2026-01-05,2026-01-07,Tax,2.00,2.00,USD,AWS,Tax,",
        ],
    )
    run.run(ws, date=date(2026, 1, 5))
    first = _kept(ws)
    # jan-05.csv: 3 rows in, 2 direct parts kept, the tax row deferred (it waits for the direct cost)
    assert [row[1:5] for row in first] == [("billing/jan-05.csv", 3, 2, 1)]
    # tax 2.00 for Jan 5-6: 1.00 a day. Jan 5 by direct cost 30 : 10 -> search 0.75, rec 0.25;
    # Jan 6 has no direct cost yet: __shared__ 1.00
    assert _tax(ws) == [("__shared__", Decimal("1.00")), ("rec", Decimal("0.25")), ("search", Decimal("0.75"))]

    _write(ws, "jan-06.csv", [_usage(6, "search", "10.00")])
    run.run(ws, date=date(2026, 1, 6))
    second = _kept(ws)
    assert second[0] == first[0]  # the same row, same allocated_at: jan-05.csv was not routed again
    assert [row[1:5] for row in second] == [("billing/jan-05.csv", 3, 2, 1), ("billing/jan-06.csv", 1, 1, 0)]
    # only Jan 6's weights changed (search 1000): the tax row's Jan 6 is split again, search 1.00;
    # Jan 5 stays as it was
    assert build.COUNTS["shared-pool rows split"] == 1 and build.COUNTS["shared-pool days split"] == 1
    assert _tax(ws) == [("rec", Decimal("0.25")), ("search", Decimal("1.75"))]
    nightly = _ledger(ws)

    with warehouse.connect(ws.warehouse) as con:  # forget everything kept: a build from nothing
        for table in (
            "cost_ledger_candidate",
            "candidate_builds",
            "billing_deferred",
            "billing_allocated",
            "shared_weights",
        ):
            con.execute(f"delete from ledger.{table}")
    run.run(ws, date=date(2026, 1, 6), month="2026-01")
    assert _ledger(ws) == nightly
    assert [row[1:5] for row in _kept(ws)] == [("billing/jan-05.csv", 3, 2, 1), ("billing/jan-06.csv", 1, 1, 0)]


def test_a_config_change_or_a_new_file_version_drops_the_kept_parts(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", config_text=CONFIG_TOML)
    _write(ws, "jan-05.csv", [_usage(5, "search", "30.00")])
    _write(ws, "jan-06.csv", [_usage(6, "rec", "10.00")])
    run.run(ws, date=date(2026, 1, 6))
    before = {row[0] for row in _kept(ws)}

    # a new version of jan-06.csv supersedes the old one: its kept parts go, the new ones come
    _write(ws, "jan-06.csv", [_usage(6, "rec", "12.00")])
    run.run(ws, date=date(2026, 1, 6))
    with warehouse.connect(ws.warehouse) as con:
        kept_total = con.execute(
            "select sum(source_amount) from ledger.cost_ledger_candidate where source = 'billing'"
        ).fetchone()[0]
        ledger_total = con.execute("select sum(billed_cost) from ledger.cost_ledger").fetchone()[0]
    assert kept_total == ledger_total == Decimal("42.00")  # 30.00 + 12.00, never + 10.00

    # another config (a third model): another recipe, every file routed again under it
    (ws.root / CONFIG_FILE).write_text(CONFIG_TOML + '[[models]]\nid = "llm"\nname = "LLM"\n', encoding="utf-8")
    run.run(Workspace.open(ws.root), date=date(2026, 1, 6), month="2026-01")
    after = _kept(ws)
    assert len(after) == 2 and {row[0] for row in after}.isdisjoint(before)
