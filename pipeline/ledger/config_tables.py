"""The configuration as small meta tables that the ledger's SQL joins (models, tag keys, attribution
and category rules, shared pools and their weights, workload rules, GPU pools, the gap rule), written
by each ledger build, so the build and the marts map rows exactly as the configuration says, and
an analyst can see which rule put a row where. Every pattern in them is a regular expression
matched in full by DuckDB (RE2)."""

from __future__ import annotations

import duckdb

from pipeline.config import Config
from pipeline.warehouse import insert_values


def category_rule_rows(rules: tuple[dict[str, str], ...]) -> list[tuple]:
    """meta.category_rules rows of the category rule table: an empty condition is not tested."""
    rows = []
    for order, rule in enumerate(rules, start=1):
        tag_key = (rule.get("tag_key") or "").strip().lower() or None
        rows.append(
            (
                order,
                rule.get("charge_category") or None,
                rule.get("service_category") or None,
                rule.get("service_name") or None,
                rule.get("charge_description") or None,
                rule.get("publisher_differs") == "true",
                tag_key,
                (rule.get("tag_value") or ".*") if tag_key is not None else None,
                rule["category"],
                rule["subcategory"],
            )
        )
    return rows


def workload_rule_rows(config: Config) -> list[tuple]:
    """meta.workload_rules rows (rule_order, namespace, pod pattern, model, phase or null)."""
    return [
        (i, r.namespace, r.pod_pattern, r.model, r.phase.value if r.phase else None)
        for i, r in enumerate(config.workloads, start=1)
    ]


def write_config_tables(
    con: duckdb.DuckDBPyConnection, config: Config, rules: tuple[dict[str, str], ...] | None = None
) -> None:
    """Replace the meta tables of the configuration (and of the category rules: `rules`, by
    default the rule table the ledger uses) in one transaction."""
    if rules is None:
        from pipeline.ledger.attribution import RULES_FILE, category_rules

        rules = category_rules(RULES_FILE)
    tables: dict[str, list[tuple]] = {
        "meta.workload_rules": workload_rule_rows(config),
        "meta.phase_defaults": sorted(config.phases.model_dump(mode="json").items()),
        "meta.phase_rules": [
            (
                i,
                r.field.value if r.field else None,
                r.tag_key.strip().lower() if r.tag_key else None,
                r.pattern,
                r.phase.value,
            )
            for i, r in enumerate(config.phase_rules, start=1)
        ],
        "meta.gpu_pools": [
            (i, p.name, p.node_pattern, p.resource_id_pattern, p.gpus_per_node, p.policy, p.idle)
            for i, p in enumerate(config.gpu_pools, start=1)
        ],
        "meta.telemetry_settings": [(config.telemetry_step_seconds, config.telemetry_gap_steps)],
        "meta.models": [(i, m.id, m.name, m.business_line, m.owner) for i, m in enumerate(config.models, start=1)],
        "meta.tag_keys": [(i, k.strip().lower()) for i, k in enumerate(config.attribution.tag_keys, start=1)],
        "meta.attribution_rules": [
            (i, r.field.value, r.pattern, r.model) for i, r in enumerate(config.attribution.rules, start=1)
        ],
        "meta.shared_pools": [
            (i, p.name, p.charge_category, p.service_name, p.service_category, p.policy, p.window)
            for i, p in enumerate(config.shared_pools, start=1)
        ],
        "meta.shared_pool_weights": [
            (p.name, model, weight)
            for p in config.shared_pools
            if p.policy == "fixed"
            for model, weight in p.weights.items()
        ],
        "meta.category_rules": category_rule_rows(rules),
    }
    con.execute("begin transaction")
    try:
        for table, rows in tables.items():
            con.execute(f"delete from {table}")
            insert_values(con, f"insert into {table}", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
