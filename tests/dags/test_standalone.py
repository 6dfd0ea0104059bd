"""The DAGs under a real scheduler: `airflow standalone` on SQLite (scheduler, dag-processor,
triggerer, api-server on a free port of 127.0.0.1) with the project's dags/, pulling billing from a
real S3 API on loopback (moto). One server for the module, stopped with SIGINT like Ctrl-C.

1. `airflow backfill create` over three days gives the same ledger, byte for byte, as the same three
   nightly runs one by one (in-process `dag.test()` on a copy of the same starting workspace). The
   backfill is created with the CLI before the server starts: SQLite takes one writer at a time, and
   a CLI writing beside a busy scheduler can fail with "database is locked".
2. A nightly run triggered through the REST API pulls a restated export, and the ledger follows it
   and reconciles.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
BUCKET, CONN_ID = "exports", "aws_exports"
PSEUDONYM_KEY = "standalone-test-key-not-a-secret"
BACKFILL_DAYS = ("2026-02-26", "2026-02-28")  # inclusive: three runs
START_TIMEOUT, RUN_TIMEOUT, STOP_TIMEOUT = 300, 600, 120
# `airflow standalone` starts each component as `airflow <component>` from PATH. Scheduler and
# triggerer would each start a log server on every interface: this shim turns those off (task logs
# are local files here), so everything the test starts listens on 127.0.0.1 only.
AIRFLOW_SHIM = """#!/bin/sh
case "$1" in
  scheduler|triggerer) exec "{airflow}" "$@" --skip-serve-logs ;;
  *) exec "{airflow}" "$@" ;;
esac
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connection(endpoint: str) -> str:
    extra = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    return json.dumps({"conn_type": "aws", "login": "loopback-key", "password": "loopback-secret", "extra": extra})


def _ledger(workspace: Path) -> list[tuple]:
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select * from ledger.cost_ledger order by all").fetchall()


def _builds(workspace: Path) -> list[tuple]:
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select periods, run_id from meta.runs where command = 'build' and status = 'success' order by started_at"
        ).fetchall()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """February of a generated estate: its config, AWS and Azure FOCUS exports, February FX rates."""
    from pipeline.generators.demo import generate_estate

    estate = generate_estate(tmp_path_factory.mktemp("estate") / "generated", seed=7, months=("2026-02",))
    billing = estate.root / "inbox" / "billing"
    objects = {
        f"focus/{p.relative_to(billing).as_posix()}": p.read_bytes() for p in sorted(billing.rglob("2026-02.csv"))
    }
    fx_lines = (estate.root / "inbox" / "fx" / "rates.csv").read_text().splitlines()
    fx = "\n".join([fx_lines[0], *[line for line in fx_lines[1:] if line.startswith("2026-02")]]) + "\n"
    config = (estate.root / "costledger.toml").read_text() + (
        f'\n[[remote_sources]]\nsource = "billing"\nuri = "s3://{BUCKET}/focus/"\nconn_id = "{CONN_ID}"\nname = '
        '"aws-exports"\n'
    )
    return {"config": config, "objects": objects, "fx": fx}


@pytest.fixture(scope="module")
def s3(exports):
    """moto's S3 server on 127.0.0.1 holding the exports; yields (endpoint, boto3 client)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # moto's state is per process
    try:
        urllib.request.urlopen(reset, timeout=30).close()
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="loopback-key",
            aws_secret_access_key="loopback-secret",
        )
        client.create_bucket(Bucket=BUCKET)
        for key, body in exports["objects"].items():
            client.put_object(Bucket=BUCKET, Key=key, Body=body)
        yield endpoint, client
    finally:
        urllib.request.urlopen(reset, timeout=30).close()
        server.stop()


def _workspace(root: Path, exports: dict) -> Path:
    from pipeline.workspace import Workspace

    Workspace.init(root, config_text=exports["config"])
    (root / "inbox" / "fx" / "rates.csv").write_text(exports["fx"])
    return root


class Standalone:
    def __init__(self, url: str, env: dict[str, str], workspace: Path, pristine: Path, log: Path):
        self.url, self.env, self.workspace, self.pristine, self.log = url, env, workspace, pristine, log
        self.token = ""

    def api(self, method: str, path: str, body: dict | None = None, *, timeout: float = 30, attempts: int = 5) -> dict:
        """One REST call; a 5xx (SQLite is busy: "database is locked") is tried again, a few times."""
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or attempt == attempts:
                    raise AssertionError(f"{method} {path}: HTTP {exc.code} {exc.read()[:2000]!r}") from None
            time.sleep(2)
        raise AssertionError("unreachable")

    def airflow(self, *args: str) -> str:
        result = subprocess.run(["airflow", *args], env=self.env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def task_states(self, dag_id: str = "cost_ledger_nightly") -> list[tuple]:
        found = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?limit=500")["task_instances"]
        return sorted((t["dag_run_id"], t["task_id"], t["map_index"], t["state"]) for t in found)

    def wait_for_runs(self, run_ids: list[str], *, dag_id: str = "cost_ledger_nightly") -> dict[str, str]:
        """Poll until every run has finished (bounded); return run id -> state."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            runs = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
            states = {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] in run_ids}
            if len(states) == len(run_ids) and all(s in ("success", "failed") for s in states.values()):
                return states
            if time.monotonic() > deadline:
                pytest.fail(f"runs {states} not finished in {RUN_TIMEOUT} s\n{self.task_states()}\n{self.log_tail()}")
            time.sleep(2)


def _group_members(pgid: int) -> list[str]:
    """Live (not zombie) processes of the process group, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(stat.parent.name)
    return members


@pytest.fixture(scope="module")
def standalone(tmp_path_factory, exports, s3, _airflow_home):
    root = tmp_path_factory.mktemp("standalone")
    home, shim = root / "airflow-home", root / "bin"
    home.mkdir()
    shim.mkdir()
    (shim / "airflow").write_text(AIRFLOW_SHIM.format(airflow=Path(sys.executable).parent / "airflow"))
    (shim / "airflow").chmod(0o755)
    workspace = _workspace(root / "workspace", exports)
    pristine = root / "pristine"
    shutil.copytree(workspace, pristine)  # the same starting state, for the runs one by one
    port = _free_port()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(shim), str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        # Only the runs the test makes: no scheduled run of "yesterday" when the DAG is unpaused.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        f"AIRFLOW_CONN_{CONN_ID.upper()}": _connection(s3[0]),
        "COSTLEDGER_WORKSPACE": str(workspace),
        "COSTLEDGER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    server = Standalone(f"http://127.0.0.1:{port}", env, workspace, pristine, root / "standalone.log")
    server.airflow("db", "migrate")
    server.airflow("dags", "reserialize")  # the backfill needs the DAG in the metadata database
    start, end = BACKFILL_DAYS
    server.airflow(
        "backfill",
        "create",
        "--dag-id",
        "cost_ledger_nightly",
        "--from-date",
        start,
        "--to-date",
        end,
        "--max-active-runs",
        "1",
    )  # one at a time: each run rebuilds the month it stands for
    with server.log.open("wb") as out:
        process = subprocess.Popen(
            ["airflow", "standalone"],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            # Ctrl-C must reach Python as KeyboardInterrupt even if our parent ignores SIGINT.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"airflow standalone exited early:\n{server.log_tail()}"
            try:
                server.token = server.api("GET", "/auth/token", timeout=5, attempts=1)["access_token"]
                dags = {d["dag_id"] for d in server.api("GET", "/api/v2/dags", timeout=5, attempts=1)["dags"]}
                if {"cost_ledger_nightly", "cost_report_monthly"} <= dags:
                    break
            except (OSError, AssertionError):  # not listening yet, or not ready to answer
                pass
            assert time.monotonic() < deadline, f"not ready in {START_TIMEOUT} s:\n{server.log_tail()}"
            time.sleep(2)
        server.api(
            "POST", "/api/v2/pools", {"name": "costledger_warehouse", "slots": 1, "description": "one DuckDB writer"}
        )
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does; SIGTERM would leave components behind
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:  # a loaded machine: a second Ctrl-C, as a person would
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        leftovers = _group_members(process.pid)
        if leftovers or process.poll() is None:
            # never leave anything running; say so loudly instead of failing the run
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            warnings.warn(
                f"airflow standalone did not stop on SIGINT; killed {leftovers}\n{server.log_tail()}", stacklevel=1
            )


def test_backfill_over_three_days_equals_three_nightly_runs(standalone, airflow_db, monkeypatch, s3):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.io import store

    start, _ = BACKFILL_DAYS  # the backfill was created with the server (queued while the DAG is paused)
    standalone.api("PATCH", "/api/v2/dags/cost_ledger_nightly", {"is_paused": False})
    days = [dt.date.fromisoformat(start) + dt.timedelta(days=i) for i in range(3)]
    run_ids = [f"backfill__{day.isoformat()}T00:00:00+00:00" for day in days]
    assert standalone.wait_for_runs(run_ids) == dict.fromkeys(run_ids, "success"), standalone.task_states()
    backfilled = _ledger(standalone.workspace)

    # The same three nightly runs, one by one, in-process, on a copy of the same starting workspace.
    monkeypatch.setenv("COSTLEDGER_WORKSPACE", str(standalone.pristine))
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", PSEUDONYM_KEY)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", _connection(s3[0]))
    monkeypatch.setattr(store, "_STORE_CACHE", {})
    for day in days:
        dag = DagBag(dag_folder=str(DAGS / "cost_ledger_nightly.py")).dags["cost_ledger_nightly"]
        for task in dag.tasks:
            task.retries = 0
        run = dag.test(logical_date=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), run_conf={})
        assert run.state == "success", day
    one_by_one = _ledger(standalone.pristine)

    with duckdb.connect(str(standalone.workspace / "warehouse.duckdb"), read_only=True) as con:
        periods = con.execute("select distinct billing_period from ledger.cost_ledger").fetchall()
    assert periods == [("2026-02",)] and backfilled, "the backfill published no February ledger"
    assert backfilled == one_by_one  # every column of every row, run_id included
    # Run by run, too: each backfill run built its own day (the build id hashes the inputs and the
    # day), in date order, exactly as the nightly run of that day did.
    builds = [_builds(standalone.workspace), _builds(standalone.pristine)]
    assert builds[0] == builds[1] and len({run_id for _, run_id in builds[0]}) == 3, builds


def test_nightly_triggered_through_the_api_pulls_a_restated_export(standalone, s3):
    from typer.testing import CliRunner

    from pipeline.cli import app

    _, client = s3
    key = "focus/aws/2026-02.csv"
    original = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    restated = original.rstrip(b"\n").rsplit(b"\n", 1)[0] + b"\n"  # the provider dropped a credit row
    client.put_object(Bucket=BUCKET, Key=key, Body=restated)
    standalone.api("PATCH", "/api/v2/dags/cost_ledger_nightly", {"is_paused": False})

    run = standalone.api(
        "POST",
        "/api/v2/dags/cost_ledger_nightly/dagRuns",
        {"dag_run_id": "manual__restatement", "logical_date": "2026-03-01T00:00:00Z", "conf": {"month": "2026-02"}},
    )
    assert standalone.wait_for_runs([run["dag_run_id"]]) == {"manual__restatement": "success"}, standalone.task_states()
    states = {(t, i): s for r, t, i, s in standalone.task_states() if r == "manual__restatement"}
    assert states[("pull", 0)] == "success"  # one mapped pull: the one remote source had a change

    with duckdb.connect(str(standalone.workspace / "warehouse.duckdb"), read_only=True) as con:
        loads = con.execute(
            "select path, status from meta.loads where path like '%aws/2026-02.csv' order by loaded_at"
        ).fetchall()
        reconciliation = con.execute(
            "select provider, billed_difference, effective_difference from marts.billing_reconciliation where "
            "billing_period = '2026-02'"
        ).fetchall()
        failures = con.execute("select count(*) from meta.task_failures").fetchone()[0]
    # The first version was superseded by the restated one, which is what the ledger now holds.
    assert [status for _, status in loads] == ["superseded", "loaded"]
    assert reconciliation and all(billed == 0 and effective == 0 for _, billed, effective in reconciliation), (
        reconciliation
    )
    assert failures == 0
    result = CliRunner().invoke(app, ["check", "--workspace", str(standalone.workspace)])
    assert result.exit_code == 0, result.output
