"""One in-process `dag.test()` run of a DAG in dags/, parsed anew, with retries off."""

from __future__ import annotations

from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def fresh(dag_id: str):
    """The DAG parsed anew: running tasks in-process writes a run's conf into its Param objects."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS / f"{dag_id}.py")).dags[dag_id]


def run_dag(dag_id: str, **kwargs):
    """One `dag.test()` run; retries are turned off so a failing task fails the run at once."""
    dag = fresh(dag_id)
    for task in dag.tasks:
        task.retries = 0
    return dag.test(**kwargs)


def states(dag_run) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}
