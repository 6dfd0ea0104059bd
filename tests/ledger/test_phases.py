"""Lifecycle phase of ledger rows, worked by hand: GPU time takes its workload rule's phase (the
split keeps phases of one model apart), a direct billing row its phase rule's, everything else
its source's default."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.ledger.billing_allocation import billing_parts
from tests.factories import billing_rows as _billing
from tests.factories import gpu_samples as _samples

CONFIG = Config.model_validate(
    {
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        "workloads": [
            {"namespace": "recsys-train", "model": "rec", "phase": "fine_tuning"},
            {"namespace": "recsys", "model": "rec"},
            {"namespace": "search", "model": "search"},
        ],
        "gpu_pools": [{"name": "pool", "node_pattern": "node-.*", "gpus_per_node": 4}],
        "phase_rules": [
            {"tag_key": "Stage", "pattern": "exp.*", "phase": "experimentation"},
            {"field": "SubAccountId", "pattern": "acct-labels", "phase": "data_preparation"},
        ],
        "phases": {"billing": "shared"},
    }
)
START = datetime(2026, 1, 5, 10)


def test_a_model_serving_and_fine_tuning_on_one_node_gets_two_phases() -> None:
    # node-1 costs 4.80 for 10:00-11:00 (4 GPUs x 3600 s): GPU0 rec serving (recsys) all hour,
    # GPUs 1-2 rec fine-tuning (recsys-train) all hour, GPU3 search all hour: 1.20 a GPU.
    # rec: inference 1.20 (1 GPU-hour) and fine_tuning 2.40 (2 GPU-hours), apart; search 1.20,
    # whose rule names no phase: the billing default, here "shared"
    ticks = [START + timedelta(seconds=300 * i) for i in range(12)]
    samples = _samples(
        [("node-1", "0", t, "recsys", "ranker-0") for t in ticks]
        + [("node-1", g, t, "recsys-train", f"tune-{g}") for g in ("1", "2") for t in ticks]
        + [("node-1", "3", t, "search", "s-0") for t in ticks]
    )
    rows = _billing(
        [
            {
                "BilledCost": "4.80",
                "EffectiveCost": "4.80",
                "ResourceName": "node-1",
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            }
        ]
    )
    parts = billing_parts(rows, samples, CONFIG, ())
    got = sorted(parts.select("model_id", "phase", "effective_cost", "quantity").rows())
    assert got == [
        ("rec", "fine_tuning", Decimal("2.40"), Decimal("2")),
        ("rec", "shared", Decimal("1.20"), Decimal("1")),
        ("search", "shared", Decimal("1.20"), Decimal("1")),
    ]
    assert parts["lineage_id"].n_unique() == 3 and set(parts["cost_basis"]) == {"cash"}


def test_phase_rules_place_direct_billing_rows() -> None:
    # three direct rows of rec: tagged stage=experiment-7 (first rule: experimentation), from the
    # labelling account (second rule: data_preparation), and untagged (the billing default: shared)
    rows = _billing(
        [
            {
                "BilledCost": "3.00",
                "EffectiveCost": "3.00",
                "Tags": '{"model": "rec", " stage ": "experiment-7"}',
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            },
            {
                "BilledCost": "5.00",
                "EffectiveCost": "5.00",
                "Tags": '{"model": "rec"}',
                "SubAccountId": "acct-labels",
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            },
            {
                "BilledCost": "7.00",
                "EffectiveCost": "7.00",
                "Tags": '{"model": "rec"}',
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            },
        ]
    )
    parts = billing_parts(rows, _samples([]), CONFIG, ())
    assert sorted(parts.select("phase", "effective_cost").rows()) == [
        ("data_preparation", Decimal("5.00")),
        ("experimentation", Decimal("3.00")),
        ("shared", Decimal("7.00")),
    ]
    assert set(parts["model_id"]) == {"rec"}


def test_without_rules_every_cash_row_is_inference() -> None:
    # the shipped defaults: no rule, no [phases]: a direct 2.00 is inference
    config = Config.model_validate({"models": [{"id": "rec", "name": "Rec"}]})
    rows = _billing(
        [
            {
                "BilledCost": "2.00",
                "EffectiveCost": "2.00",
                "Tags": '{"model": "rec"}',
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            }
        ]
    )
    parts = billing_parts(rows, _samples([]), config, ())
    assert parts.select("model_id", "phase", "cost_basis", "economic_cost").rows() == [
        ("rec", "inference", "cash", Decimal("2.00"))
    ]


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"pattern": "x", "phase": "training"}, "exactly one of field"),
        ({"field": "SubAccountId", "tag_key": "stage", "pattern": "x", "phase": "training"}, "exactly one of field"),
        ({"field": "SubAccountId", "pattern": "x", "phase": "serving"}, "phase"),
    ],
)
def test_bad_phase_rules_are_config_errors(tmp_path, rule, message) -> None:
    from pipeline.config import load_config

    lines = ["[[phase_rules]]", *(f'{k} = "{v}"' for k, v in rule.items())]
    (tmp_path / "costledger.toml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "costledger.toml")


def test_a_warehouse_from_before_cost_basis_gets_the_columns_and_its_delay_moved(tmp_path) -> None:
    # a published ledger of the old shape: a bill of 10.00 and a cost of delay of 500.00, then
    # counted in billed and effective cost alike. Opened by this version: the bill is cash,
    # inference, economic 10.00; the delay opportunity, shared, billed and effective 0 and
    # economic 500.00 (so the month's billed total drops from 510.00 to 10.00)
    import duckdb

    from pipeline import warehouse

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema ledger")
        con.execute("""create table ledger.cost_ledger (charge_date date, billing_period varchar, model_id varchar,
            category varchar, subcategory varchar, billed_cost decimal(38, 18), effective_cost decimal(38, 18),
            currency varchar, source_amount decimal(38, 18), source_effective_amount decimal(38, 18),
            source_currency varchar, fx_rate decimal(38, 10), quantity decimal(38, 9), quantity_unit varchar,
            source varchar, provider varchar, allocation_method varchar, allocation_share decimal(38, 18),
            unallocated_reason varchar, lineage_id varchar, source_ref varchar, run_id varchar)""")
        con.execute("""insert into ledger.cost_ledger values
            ('2026-01-05', '2026-01', 'rec', 'hardware', 'gpu', 10, 10, 'USD', 10, 10, 'USD', 1, null, null,
             'billing', 'AWS', 'direct', 1, null, 'a', 'l:1', 'r'),
            ('2026-01-05', '2026-01', 'rec', 'time', 'delay', 500, 500, 'USD', 500, 500, 'USD', 1, 1, 'days late',
             'milestones', 'internal', 'delay', 1, null, 'b', 'm:1', 'r')""")
    con = warehouse.connect(path)
    try:
        rows = con.execute(
            "select source, cost_basis, phase, billed_cost, effective_cost, economic_cost, source_amount, "
            "source_effective_amount from ledger.cost_ledger order by source"
        ).fetchall()
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where table_name = 'cost_ledger_candidate'"
                " and schema_name = 'ledger'"
            ).fetchall()
        ]
    finally:
        con.close()
    assert rows == [
        ("billing", "cash", "inference", Decimal(10), Decimal(10), Decimal(10), Decimal(10), Decimal(10)),
        ("milestones", "opportunity", "shared", Decimal(0), Decimal(0), Decimal(500), Decimal(0), Decimal(500)),
    ]
    assert columns[-4:] == ["cost_basis", "phase", "economic_cost", "row_hash"]
