"""A real S3 API on loopback (moto's server in a thread, on a free port of 127.0.0.1) and an Airflow
connection to it given the way a deployment gives one: an AIRFLOW_CONN_<ID> environment variable."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
import urllib.request

import pytest

# Run alone, these tests still keep Airflow's settings out of ~/airflow.
if "AIRFLOW_HOME" not in os.environ and "airflow" not in sys.modules:
    _home = tempfile.mkdtemp(prefix="costledger-airflow-pull-")
    os.environ["AIRFLOW_HOME"] = _home
    atexit.register(shutil.rmtree, _home, True)

CONN_ID = "aws_exports"
BUCKET = "exports"


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on 127.0.0.1; yields its endpoint URL and stops it afterwards."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        reset_moto(endpoint)
        yield endpoint
    finally:
        reset_moto(endpoint)
        server.stop()


def reset_moto(endpoint: str) -> None:
    """Empty moto's in-memory backends: they are shared by every moto server of the process."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """A boto3 client on the loopback server with an empty bucket, and the Airflow connection."""
    import boto3
    from airflow.sdk.io import store

    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "loopback-key",
                "password": "loopback-secret",
                "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"},
            }
        ),
    )
    monkeypatch.setattr(store, "_STORE_CACHE", {})  # a fresh filesystem per test
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="loopback-key",
        aws_secret_access_key="loopback-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)
