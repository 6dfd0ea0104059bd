"""Which billing rows are GPU pool nodes, and which telemetry host each is: by ResourceName, or by
instance id (ResourceId) with the host name's first label; workload namespaces as patterns."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pipeline.config import Config
from pipeline.ledger.billing_allocation import billing_parts
from tests.factories import billing_rows as _billing
from tests.factories import gpu_samples as _samples

START = datetime(2026, 1, 5, 10)
CONFIG = Config.model_validate(
    {
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        "workloads": [{"namespace": "search-.*", "model": "search"}, {"namespace": "rec", "model": "rec"}],
        "gpu_pools": [
            {
                "name": "pool",
                "node_pattern": "node-.*",
                "resource_id_pattern": "arn:aws:ec2:.*:instance/i-[0-9a-f]+",
                "gpus_per_node": 1,
            }
        ],
    }
)


def test_a_node_billed_by_instance_id_is_split_by_the_telemetry_of_that_instance():
    # the row names the instance "gpu box" (not a host name); its ResourceId ends in i-0abc, and the
    # node reports as i-0abc.ec2.internal: 12 samples x 300 s = the hour, held by a pod in namespace
    # search-prod (pattern search-.*) for 9 of them, idle for 3: 3.60 -> search 2.70, idle 0.90
    rows = _billing(
        [
            {
                "BilledCost": "3.60",
                "EffectiveCost": "3.60",
                "ResourceName": "gpu box",
                "ResourceId": "arn:aws:ec2:us-east-1:111:instance/i-0abc",
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            }
        ]
    )
    ticks = [START + timedelta(seconds=300 * i) for i in range(12)]
    samples = _samples(
        [
            ("i-0abc.ec2.internal", "0", t, "search-prod" if i < 9 else None, "s-0" if i < 9 else None)
            for i, t in enumerate(ticks)
        ]
        + [("i-0abd.ec2.internal", "0", t, "rec", "r-0") for t in ticks]
    )  # another instance: not this node
    parts = billing_parts(rows, samples, CONFIG, ())
    got = {r["model_id"]: r["source_effective_amount"] for r in parts.iter_rows(named=True)}
    assert got == {"search": Decimal("2.70"), "__idle__": Decimal("0.90")}
    assert set(parts["allocation_method"]) == {"gpu_time"}


def test_a_row_matching_neither_pattern_is_not_a_pool_node():
    rows = _billing(
        [
            {
                "BilledCost": "3.60",
                "EffectiveCost": "3.60",
                "ResourceName": "gpu box",
                "ResourceId": "i-0abc",
                "ChargePeriodStart": START,
                "ChargePeriodEnd": START + timedelta(hours=1),
            }
        ]
    )
    parts = billing_parts(rows, _samples([]), CONFIG, ())
    assert parts["model_id"].to_list() == ["__unallocated__"]
