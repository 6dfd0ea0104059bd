"""The parts of the configuration that SQL views need (workload rules, GPU pools, the gap rule), written to
meta tables by each ledger build, so marts map samples and nodes exactly as the ledger did."""

from __future__ import annotations

import duckdb

from pipeline.config import Config


def write_config_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Replace meta.workload_rules, meta.gpu_pools and meta.telemetry_settings with the
    configuration's, in one transaction."""
    rules = [(i, r.namespace, r.pod_pattern, r.model) for i, r in enumerate(config.workloads, start=1)]
    pools = [(i, p.name, p.node_pattern, p.resource_id_pattern, p.gpus_per_node, p.policy, p.idle) for i, p in enumerate(config.gpu_pools, start=1)]
    con.execute("begin transaction")
    try:
        con.execute("delete from meta.workload_rules")
        con.execute("delete from meta.gpu_pools")
        con.execute("delete from meta.telemetry_settings")
        con.execute("insert into meta.telemetry_settings values (?, ?)", [config.telemetry_step_seconds, config.telemetry_gap_steps])
        if rules:
            con.executemany("insert into meta.workload_rules values (?, ?, ?, ?)", rules)
        if pools:
            con.executemany("insert into meta.gpu_pools values (?, ?, ?, ?, ?, ?, ?)", pools)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
