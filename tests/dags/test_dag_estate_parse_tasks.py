"""The nightly DAG parses each new file of a generated two-month estate in its own task, and its
ledger equals the CLI's, row for row (slow: a file of its own, so a test worker runs it beside the
other slow files)."""

from __future__ import annotations

import pytest

from tests.dags.dagrun import run_dag as _run
from tests.dags.dagrun import states as _states

MONTHS = ("2026-02", "2026-03")


@pytest.mark.slow
def test_nightly_parses_each_new_file_in_its_own_task_and_builds_the_cli_ledger(airflow_db, tmp_path, monkeypatch):
    import shutil

    import duckdb
    import polars as pl

    from pipeline import run
    from pipeline.generators.demo import generate_estate
    from pipeline.ingest import bundle, pending

    estate = generate_estate(tmp_path / "dag", seed=7, months=MONTHS)
    cli = shutil.copytree(estate.root, tmp_path / "cli")
    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(estate.root))
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "dag-test-pseudonym-key-not-a-secret")
    new_files = pending(estate.root)
    assert len(new_files) > 100 and not [f for f in new_files if f["source"] == "labor"]
    # Bundles kept after loading, to search them for HR data below (the writer deletes them).
    monkeypatch.setattr(bundle, "discard", lambda found: None)
    monkeypatch.setattr(bundle, "sweep", lambda ws, *, before: None)

    day = estate.as_of  # the `date` param: the same as-of day as the CLI run below
    nightly = _run("cost_ledger_nightly", run_conf={"date": day.isoformat()})
    assert nightly.state == "success", _states(nightly)
    parses = {ti.rendered_map_index: ti.state for ti in nightly.get_task_instances() if ti.task_id == "parse"}
    assert parses == {f"{f['source']}: {f['path']}": "success" for f in new_files}  # one task per new file

    run.run(cli, date=day)  # the CLI path: every file parsed by the writer
    query = "select * from ledger.cost_ledger where billing_period in (select unnest(?)) order by all"
    ledgers = []
    for root in (estate.root, cli):
        with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
            ledgers.append(con.execute(query, [estate.months]).fetchall())
    assert ledgers[0] and ledgers[0] == ledgers[1]  # every column of every row, run_id included

    # HR rows stay in the restricted database: no salary figure or person id in the shared work folder
    # (E1000 is the generator's first person; 9697.81 the first monthly salary of its people.csv).
    people = (estate.root / "inbox" / "labor" / "people.csv").read_text().splitlines()
    person, salary = people[1].split(",")[0], people[1].split(",")[4]
    staged = [p for p in (estate.root / "work").rglob("*") if p.is_file()]
    assert len(staged) >= len(new_files)
    for path in staged:
        text = _as_text(pl.read_parquet(path)) if path.suffix == ".parquet" else path.read_text()
        assert person not in text and salary not in text, path


def _as_text(frame):
    """A staged Parquet part as CSV text, raw records (a struct of the delivered values) as JSON."""
    import polars as pl

    structs = [
        pl.col(name).struct.json_encode() for name, dtype in frame.schema.items() if isinstance(dtype, pl.Struct)
    ]
    return frame.with_columns(structs).cast(pl.String).write_csv()
