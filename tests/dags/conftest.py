"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME with a SQLite metadata database, set before
anything imports airflow, so the tests never touch a real deployment's settings or database."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="costledger-airflow-"))
_AIRFLOW_ALREADY_IMPORTED = "airflow" in sys.modules
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_AIRFLOW_HOME / "logs"),
    }
)
# The DAG files import `pipeline`; make the repository importable however pytest was started.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session", autouse=True)
def _airflow_home():
    yield _AIRFLOW_HOME
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def dagbag():
    """Every DAG in dags/, parsed the way the dag-processor parses them."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="session")
def airflow_db(_airflow_home):
    """A migrated metadata database in the temporary AIRFLOW_HOME, for `dag.test()`."""
    if _AIRFLOW_ALREADY_IMPORTED:
        pytest.skip("airflow was imported before tests/dags/conftest.py could point AIRFLOW_HOME at a temp folder")
    from airflow.utils import db

    db.upgradedb()
    return _airflow_home
