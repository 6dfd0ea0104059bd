"""marts.gpu_efficiency on hand-made ledger rows and samples: GPU-hours, utilisation, idle share, cost."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from pipeline import warehouse
from pipeline.config import Config
from pipeline.ledger.config_tables import write_config_tables

DAY = date(2026, 1, 5)
CONFIG = Config.model_validate(
    {
        "models": [{"id": "search", "name": "Search"}, {"id": "rec", "name": "Rec"}],
        # namespaces are patterns, matched in full
        "workloads": [{"namespace": "search", "model": "search"}, {"namespace": "rec.*", "model": "rec"}],
        "gpu_pools": [
            {"name": "eks", "node_pattern": "node-.*", "resource_id_pattern": ".*/i-[0-9a-f]+", "gpus_per_node": 2}
        ],
    }
)


def _ledger(
    con, source: str, source_ref: str, model: str, subcategory: str, cost: str, quantity: str | None, unit: str
) -> None:
    con.execute(
        "insert into ledger.cost_ledger (charge_date, billing_period, model_id, category, subcategory, billed_cost, "
        "effective_cost, currency, "
        "source_amount, source_effective_amount, source_currency, fx_rate, quantity, quantity_unit, source, provider, "
        "allocation_method, "
        "allocation_share, lineage_id, source_ref, run_id, cost_basis, phase, economic_cost) "
        "values (?, '2026-01', ?, 'hardware', ?, ?, ?, 'USD', ?, ?, 'USD', 1, ?, ?, ?, 'x', 'gpu_time', 1, ?, ?, 'r', "
        "'cash', 'inference', ?)",
        [
            DAY,
            model,
            subcategory,
            Decimal(cost),
            Decimal(cost),
            Decimal(cost),
            Decimal(cost),
            quantity and Decimal(quantity),
            unit,
            source,
            f"{source_ref}|{model}|{subcategory}",
            source_ref,
            Decimal(cost),
        ],
    )


def _node(con, row: int, name: str, resource_id: str) -> None:
    con.execute(
        "insert into staging.billing (load_id, row_number, BillingPeriodStart, ChargePeriodStart, ChargePeriodEnd, "
        "ChargeCategory, BilledCost, "
        "EffectiveCost, BillingCurrency, ProviderName, ResourceName, ResourceId, x_BillingPeriod, x_SourceFormat) "
        "values ('L1', ?, '2026-01-01', '2026-01-05 10:00', '2026-01-05 11:00', 'Usage', 0, 0, 'USD', 'AWS', ?, ?, "
        "'2026-01', 'focus')",
        [row, name, resource_id],
    )


def _sample(con, host: str, minute: int, metric: str, value: str, step: int, namespace: str | None = None) -> None:
    con.execute(
        "insert into staging.gpu_samples (load_id, row_number, metric, ts, step_seconds, hostname, gpu, namespace, "
        "pod, value) "
        "values ('T', 1, ?, ?, ?, ?, '0', ?, ?, ?)",
        [
            metric,
            datetime(2026, 1, 5, 10, minute),
            step,
            host,
            namespace,
            namespace and f"{namespace}-0",
            Decimal(value),
        ],
    )


@pytest.fixture()
def mart(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    write_config_tables(con, CONFIG)
    # cloud node-1 (by name) and a node billed by instance id (ResourceName is not a host name)
    _node(con, 1, "node-1", "arn:aws:ec2:us-east-1:1:instance/i-0aaa")
    _node(con, 2, "gpu box", "arn:aws:ec2:us-east-1:1:instance/i-0abc")
    _ledger(con, "billing", "L1:1", "search", "gpu_compute", "3.00", "1.5", "GPU-hours")
    _ledger(con, "billing", "L1:1", "__idle__", "gpu_compute", "1.00", "0.5", "GPU-hours")
    _ledger(con, "billing", "L1:2", "search", "gpu_compute", "2.00", "1.0", "GPU-hours")
    # owned dc-1: depreciation and maintenance are two splits of the same 4 GPU-hours; energy in kWh
    for subcategory, rec, idle in (("depreciation", "4.00", "4.00"), ("maintenance", "1.00", "1.00")):
        _ledger(con, "assets", "A:1@dc-1/2026-01-05", "rec", subcategory, rec, "2.0", "GPU-hours")
        _ledger(con, "assets", "A:1@dc-1/2026-01-05", "__idle__", subcategory, idle, "2.0", "GPU-hours")
    _ledger(con, "energy", "energy@dc-1/2026-01-05", "rec", "energy", "0.50", "3.0", "kWh")
    _ledger(con, "energy", "energy@dc-1/2026-01-05", "__idle__", "energy", "0.10", "0.6", "kWh")
    # utilisation: GR_ENGINE_ACTIVE (x 100) wins over GPU_UTIL at the same instant
    _sample(con, "node-1", 0, "DCGM_FI_DEV_GPU_UTIL", "50", 300, "search")
    _sample(con, "node-1", 5, "DCGM_FI_DEV_GPU_UTIL", "10", 300, "search")
    _sample(con, "node-1", 5, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.80", 300, "search")
    _sample(con, "node-1", 10, "DCGM_FI_DEV_GPU_UTIL", "0", 300)
    _sample(con, "i-0abc.ec2.internal", 0, "DCGM_FI_DEV_GPU_UTIL", "20", 300, "search")
    _sample(con, "dc-1", 0, "DCGM_FI_DEV_GPU_UTIL", "30", 60, "recsys-prod")
    _sample(con, "dc-1", 1, "DCGM_FI_DEV_GPU_UTIL", "90", 180, "recsys-prod")
    _sample(con, "dc-1", 0, "DCGM_FI_DEV_POWER_USAGE", "300", 60, "recsys-prod")  # not a utilisation
    rows = con.execute("select * from marts.gpu_efficiency order by pool, model_id").fetchall()
    names = [d[0] for d in con.description]
    con.close()
    return {(r[1], r[2]): dict(zip(names, r, strict=True)) for r in rows}


def test_gpu_hours_utilisation_idle_share_and_cost_per_pool_and_model(mart):
    assert set(mart) == {("eks", "search"), ("eks", "__idle__"), ("owned", "rec"), ("owned", "__idle__")}
    search, idle = mart[("eks", "search")], mart[("eks", "__idle__")]
    # eks: search 1.5 (node-1) + 1.0 (the node matched by instance id) = 2.5 GPU-hours for 3.00 + 2.00
    assert (search["gpu_hours"], search["gpu_cost"], search["energy_cost"], search["cost"]) == (
        Decimal("2.5"),
        Decimal("5"),
        0,
        Decimal("5"),
    )
    assert search["cost_per_gpu_hour"] == pytest.approx(2.0)  # 5.00 / 2.5
    # idle 0.5 of 3.0 GPU-hours = 1/6, on every row of the pool
    assert search["pool_idle_share"] == idle["pool_idle_share"] == pytest.approx(1 / 6)
    # search's samples: 50 % (300 s), 80 % (GR 0.80 beats GPU_UTIL 10, 300 s), 20 % on i-0abc (300 s) -> 50 %
    assert search["mean_utilisation_percent"] == pytest.approx(50.0)
    assert idle["mean_utilisation_percent"] == pytest.approx(0.0)
    rec, owned_idle = mart[("owned", "rec")], mart[("owned", "__idle__")]
    # owned: 2.0 GPU-hours once (not 4.0 from the two subcategories); 4.00 + 1.00 + energy 0.50
    assert (rec["gpu_hours"], rec["gpu_cost"], rec["energy_cost"], rec["cost"]) == (
        Decimal("2"),
        Decimal("5"),
        Decimal("0.5"),
        Decimal("5.5"),
    )
    assert rec["cost_per_gpu_hour"] == pytest.approx(2.75)  # 5.50 / 2.0
    assert owned_idle["cost"] == Decimal("5.1") and owned_idle["pool_idle_share"] == pytest.approx(
        0.5
    )  # 2 of 4 GPU-hours
    # rec (namespace recsys-prod matches the pattern rec.*): (30 x 60 + 90 x 180) / 240 = 75 %
    assert rec["mean_utilisation_percent"] == pytest.approx(75.0)


def test_telemetry_gaps_follow_the_ledger_gap_rule(tmp_path):
    # step 300 s, telemetry_gap_steps 2 (600 s): samples at 10:00, 10:05, 10:15 (10 min: within the
    # rule), 10:40 (25 min: a gap from 10:20, one step after 10:15, to 10:40 = 1200 s)
    con = warehouse.connect(tmp_path / "w.duckdb")
    write_config_tables(con, CONFIG)
    for minute in (0, 5, 15, 40):
        _sample(con, "node-1", minute, "DCGM_FI_DEV_GPU_UTIL", "1", 300)
        _sample(con, "node-1", minute, "DCGM_FI_DEV_POWER_USAGE", "100", 300)  # another metric, the same instants
    rows = con.execute("select hostname, gpu, gap_start, gap_end, gap_seconds from marts.telemetry_gaps").fetchall()
    con.close()
    assert rows == [("node-1", "0", datetime(2026, 1, 5, 10, 20), datetime(2026, 1, 5, 10, 40), Decimal(1200))]
