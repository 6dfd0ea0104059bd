"""`pipeline.pull` against a real S3 API on loopback (moto's server): objects land in
inbox/<source>/<folder>/, unchanged ones are not fetched again, changed ones are, and billing pulled
that way loads and reconciles to the cent."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import pull
from pipeline.errors import ConfigError
from pipeline.workspace import Workspace

BUCKET, CONN_ID = "exports", "aws_exports"  # the bucket and connection of conftest.py

REMOTE = f"""
[[remote_sources]]
source = "billing"
uri = "s3://{BUCKET}/focus/"
conn_id = "{CONN_ID}"
name = "aws-exports"
"""


def _workspace(root: Path, config_text: str | None = None) -> Workspace:
    Workspace.init(root)
    (root / "costledger.toml").write_text((config_text or (root / "costledger.toml").read_text()) + REMOTE)
    return Workspace.open(root)


def _put(s3, key: str, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def test_pull_lands_new_objects_then_only_changed_or_missing_ones(s3, tmp_path):
    ws = _workspace(tmp_path / "ws")
    _put(s3, "focus/2026/01/export.csv", b"a,b\n1,2\n")
    _put(s3, "focus/2026/02/export.csv.gz", b"\x1f\x8b not really gzip")
    _put(s3, "focus/.staging/partial.csv", b"hidden: never pulled")
    _put(s3, "other/2026/01/export.csv", b"outside the prefix")
    folder = ws.inbox / "billing" / "aws-exports"

    (first,) = pull.pull(ws)
    # Two visible objects below the prefix; the hidden one and the one outside it stay put.
    assert first.copied == ["billing/aws-exports/2026/01/export.csv", "billing/aws-exports/2026/02/export.csv.gz"]
    assert (folder / "2026/01/export.csv").read_bytes() == b"a,b\n1,2\n"
    manifest = json.loads((folder / pull.MANIFEST).read_text())
    assert manifest["2026/01/export.csv"]["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert manifest["2026/01/export.csv"]["version"].startswith("ETag:")
    # Ingest never sees the manifest: hidden files are skipped.
    assert [p.name for p in ws.source_files("billing")] == ["export.csv", "export.csv.gz"]

    (again,) = pull.pull(ws)
    assert again.copied == [] and len(again.unchanged) == 2

    _put(s3, "focus/2026/01/export.csv", b"a,b\n1,3\n")  # a restatement
    (folder / "2026/02/export.csv.gz").unlink()  # lost locally
    (third,) = pull.pull(ws)
    assert third.copied == ["billing/aws-exports/2026/01/export.csv", "billing/aws-exports/2026/02/export.csv.gz"]
    assert (folder / "2026/01/export.csv").read_bytes() == b"a,b\n1,3\n"
    assert not list(folder.rglob(".*.part"))


def test_find_exports_batches_what_changed_and_pull_batch_fetches_it(s3, tmp_path):
    ws = _workspace(tmp_path / "ws")
    assert pull.find_exports(ws) == []
    _put(s3, "focus/a.csv", b"x\n1\n")
    batches = pull.find_exports(ws)
    assert batches == [{"source": "billing", "folder": "aws-exports", "keys": ["a.csv"]}]
    assert pull.find_exports(ws, source="telemetry") == []  # the DAG's `source` param
    with pytest.raises(ConfigError, match="source 'bills'"):
        pull.find_exports(ws, source="bills")
    assert pull.pull_batch(ws, batches[0]) == ["billing/aws-exports/a.csv"]
    assert pull.find_exports(ws) == []


def test_a_local_folder_is_a_remote_source_too(tmp_path):
    exports = tmp_path / "exports"
    (exports / "2026-01").mkdir(parents=True)
    (exports / "2026-01" / "usage.csv").write_text("usage_date,model_id,requests,tokens\n")
    ws = Workspace.init(tmp_path / "ws")
    config = ws.root / "costledger.toml"
    # a folder outside the workspace is read only when allowed_roots declares it
    config.write_text(
        f'allowed_roots = ["{exports}"]\n'
        + config.read_text()
        + f'\n[[remote_sources]]\nsource = "usage"\nuri = "file://{exports}/"\n'
    )
    (result,) = pull.pull(Workspace.open(ws.root))
    folder = pull.remote(ws.root, "usage", result.folder)
    assert result.copied == [f"usage/{folder.folder}/2026-01/usage.csv"]


@pytest.mark.parametrize(
    "entry, message",
    [
        ('source = "bills"\nuri = "s3://b/p/"', "unknown source 'bills'"),
        ('source = "billing"\nuri = "ftp://host/p/"', "String should match pattern"),
        ('source = "billing"\nuri = "s3://b/p/"\nconn = "x"', "Extra inputs are not permitted"),
    ],
)
def test_bad_remote_source_config_is_refused_by_name(tmp_path, entry, message):
    ws = Workspace.init(tmp_path / "ws")
    config = ws.root / "costledger.toml"
    config.write_text(config.read_text() + f"\n[[remote_sources]]\n{entry}\n")
    with pytest.raises(ConfigError, match=message):
        _ = Workspace.open(ws.root).config


def _local_source(ws_root: Path, uri: str, allowed: str = "") -> Workspace:
    config = ws_root / "costledger.toml"
    config.write_text(
        allowed + config.read_text() + f'\n[[remote_sources]]\nsource = "usage"\nuri = "{uri}"\nname = "local"\n'
    )
    return Workspace.open(ws_root)


@pytest.mark.parametrize("where", ["dot-dot", "absolute", "link"])
def test_a_file_uri_outside_the_workspace_is_a_config_error(tmp_path, where):
    # the folder /.../elsewhere, reached three ways from a workspace at /.../ws
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "usage.csv").write_text("usage_date,model_id,requests\n")
    ws = Workspace.init(tmp_path / "ws")
    (ws.root / "exports").symlink_to(elsewhere)
    uri = {
        "dot-dot": f"file://{ws.root}/../elsewhere/",
        "absolute": f"file://{elsewhere}/",
        "link": f"file://{ws.root}/exports/",
    }[where]
    with pytest.raises(ConfigError) as caught:
        _ = _local_source(ws.root, uri).config
    message = str(caught.value)
    assert "costledger.toml: remote_sources.0.uri" in message
    assert repr(uri) in message and f"resolves to {elsewhere.resolve()}" in message
    assert caught.value.exit_code == 2
    # declared in allowed_roots, the same folder is read
    ws_allowed = Workspace.init(tmp_path / f"ws-{where}")
    (ws_allowed.root / "exports").symlink_to(elsewhere)
    uri = uri.replace(str(ws.root), str(ws_allowed.root))
    (result,) = pull.pull(_local_source(ws_allowed.root, uri, allowed=f'allowed_roots = ["{elsewhere}"]\n'))
    assert result.copied == ["usage/local/usage.csv"]


def test_a_file_uri_inside_the_workspace_needs_no_allowed_root(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    (ws.root / "exports").mkdir()
    (ws.root / "exports" / "usage.csv").write_text("usage_date,model_id,requests\n")
    (result,) = pull.pull(_local_source(ws.root, f"file://{ws.root}/exports/"))
    assert result.copied == ["usage/local/usage.csv"]
    # a relative allowed root is relative to the workspace: ../elsewhere is tmp_path/elsewhere
    (tmp_path / "elsewhere").mkdir()
    ws2 = Workspace.init(tmp_path / "ws2")
    assert _local_source(ws2.root, f"file://{tmp_path}/elsewhere/", allowed='allowed_roots = ["../elsewhere"]\n').config


def test_cli_run_refuses_a_file_uri_outside_the_workspace(tmp_path):
    from pipeline.cli import app

    ws = Workspace.init(tmp_path / "ws")
    _local_source(ws.root, "file:///etc/")
    result = CliRunner().invoke(app, ["run", "--workspace", str(ws.root)])
    assert result.exit_code == 2
    assert (
        result.output.startswith("error: ") and "remote_sources.0.uri: 'file:///etc/' resolves to /etc" in result.output
    )
    assert not ws.warehouse.exists()  # refused before anything was opened


def test_an_inbox_folder_linked_out_of_the_workspace_is_not_written(tmp_path):
    exports, outside = tmp_path / "ws" / "exports", tmp_path / "outside"
    ws = Workspace.init(tmp_path / "ws")
    exports.mkdir()
    (exports / "usage.csv").write_text("usage_date,model_id,requests\n")
    outside.mkdir()
    (ws.inbox / "usage" / "local").symlink_to(outside)
    with pytest.raises(ConfigError, match="inbox/usage/local resolves to .*outside the workspace"):
        pull.pull(_local_source(ws.root, f"file://{exports}/"))
    assert list(outside.iterdir()) == []


def test_cli_pull(s3, tmp_path):
    from pipeline.cli import app

    ws = _workspace(tmp_path / "ws")
    _put(s3, "focus/a.csv", b"x\n1\n")
    result = CliRunner().invoke(app, ["pull", "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert "billing/aws-exports: 1 pulled, 0 unchanged" in result.output


@pytest.mark.slow
def test_billing_pulled_from_s3_lands_and_reconciles(s3, tmp_path):
    """A generated month of AWS and Azure FOCUS exports, served from the loopback S3 API, pulled,
    loaded and published: every file lands byte for byte and the ledger reconciles to the cent."""
    from pipeline import run
    from pipeline.generators.demo import generate_estate

    estate = generate_estate(tmp_path / "generated", seed=7)  # three months; February is served
    ws = _workspace(tmp_path / "ws", (estate.root / "costledger.toml").read_text())
    (ws.inbox / "fx" / "rates.csv").write_bytes((estate.root / "inbox/fx/rates.csv").read_bytes())
    originals = sorted((estate.root / "inbox" / "billing").rglob("2026-02.csv"))
    assert len(originals) == 2  # aws/2026-02.csv, azure/2026-02.csv
    for path in originals:
        _put(s3, f"focus/{path.relative_to(estate.root / 'inbox' / 'billing').as_posix()}", path.read_bytes())

    (pulled,) = pull.pull(ws)
    assert pulled.copied == ["billing/aws-exports/aws/2026-02.csv", "billing/aws-exports/azure/2026-02.csv"]
    assert "2026-02" in run.run(ws, date=date(2026, 2, 28))  # and the months the FX file spans

    con = duckdb.connect(str(ws.warehouse), read_only=True)
    try:
        loads = con.execute(
            "select path, checksum, status, rows_in, rows_loaded + rows_quarantined from meta.loads where source = "
            "'billing' order by path"
        ).fetchall()
        reconciliation = con.execute(
            "select provider, billed_difference, effective_difference from marts.billing_reconciliation where "
            "billing_period = '2026-02'"
        ).fetchall()
        ledger_rows = con.execute(
            "select count(*) from ledger.cost_ledger where billing_period = '2026-02'"
        ).fetchone()[0]
    finally:
        con.close()
    # Each pulled file loaded as the exact bytes the store served, and every row is accounted for.
    assert [(p, c, s) for p, c, s, _, _ in loads] == [
        (f"billing/aws-exports/{o.parent.name}/{o.name}", hashlib.sha256(o.read_bytes()).hexdigest(), "loaded")
        for o in originals
    ]
    assert all(rows_in == accounted and rows_in > 0 for *_, rows_in, accounted in loads)
    # Ledger total = source total, per provider and currency, to the cent and beyond: differences 0.
    assert len(reconciliation) >= 2 and ledger_rows > 0
    assert all(billed == 0 and effective == 0 for _, billed, effective in reconciliation), reconciliation


def test_a_scheme_without_its_provider_is_a_config_error_that_says_what_to_install(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    config = ws.root / "costledger.toml"
    config.write_text(
        config.read_text() + '\n[[remote_sources]]\nsource = "billing"\nuri = "gs://exports/focus/"\nconn_id = "gcp"\n'
    )
    with pytest.raises(ConfigError, match="apache-airflow-providers-google"):
        pull.pull(Workspace.open(ws.root))
