"""The scale generator (pipeline.generators.scale): same seed, same bytes; and a tiny generated month runs
through the pipeline to a ledger whose totals are the generated inputs' (worked out below)."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import duckdb
import pytest

from pipeline import run
from pipeline.generators.scale import Spec, eur_rate, generate
from pipeline.generators.scale_fixed import person_cost

# 2 days of January; 2 hosts of 8 GPUs: gpu-node-0000 (cloud pool) and dc1-gpu-0001 (owned)
TINY = Spec(billing_rows=400, gpus=16, people=4, models=3, owned_hosts=1, days=2)


def _checksums(root) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_same_files(tmp_path, fmt):
    a = _checksums(generate(tmp_path / "a", "tiny", fmt=fmt, seed=7, spec=TINY))
    b = _checksums(generate(tmp_path / "b", "tiny", fmt=fmt, seed=7, spec=TINY))
    other = _checksums(generate(tmp_path / "c", "tiny", fmt=fmt, seed=8, spec=TINY))
    assert a == b
    # one file a day per daily source: 2 billing, 2 telemetry, 2 usage, 2 FX
    assert sorted(k for k in a if "2026-01-02" in k) == [
        f"inbox/billing/focus-2026-01-02.{fmt}",
        "inbox/fx/rates-2026-01-02.csv",
        f"inbox/telemetry/gpu-2026-01-02.{fmt}",
        "inbox/usage/volumes-2026-01-02.csv",
    ]
    assert (
        a[f"inbox/billing/focus-2026-01-01.{fmt}"] != other[f"inbox/billing/focus-2026-01-01.{fmt}"]
    )  # the seed moves the costs


def test_billing_rows_and_exact_money(tmp_path):
    root = generate(tmp_path / "w", "tiny", spec=TINY)
    con = duckdb.connect()
    rows, pool, types = con.execute(
        "select count(*), count(*) filter (where ResourceName = 'gpu-node-0000'), any_value(typeof(BilledCost)) from "
        f"read_parquet('{root}/inbox/billing/*.parquet')"
    ).fetchone()
    assert rows == 400  # 200 a day
    assert pool == 2 * 24  # an hourly row per cloud node and day
    assert types == "DECIMAL(38,10)"


@pytest.mark.slow
def test_tiny_month_runs_and_the_ledger_adds_up(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTLEDGER_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    root = generate(tmp_path / "w", "tiny", spec=TINY)
    run.run(root, date=date(2026, 1, 31))
    con = duckdb.connect()
    inbox = root / "inbox"
    # billing: USD as delivered; EUR x the day's rate (day 1: 1.0800, day 2: 1.0810)
    billed_usd, effective_usd = con.execute(
        f"select sum(BilledCost), sum(EffectiveCost) from read_parquet('{inbox}/billing/*.parquet') where "
        "BillingCurrency = 'USD'"
    ).fetchone()
    eur = con.execute(
        "select day(ChargePeriodStart) - 1, sum(BilledCost), sum(EffectiveCost) from "
        f"read_parquet('{inbox}/billing/*.parquet') "
        "where BillingCurrency = 'EUR' group by 1"
    ).fetchall()
    billing_billed = billed_usd + sum(b * eur_rate(d) for d, b, _ in eur)
    billing_effective = effective_usd + sum(e * eur_rate(d) for d, _, e in eur)
    # energy of the owned host: watts x 60 s per sample; 1 J = 1.5 (PUE) x 0.12 / 3.6e6 = 0.00000005 USD
    watt_samples = con.execute(
        f"select sum(value)::bigint from read_parquet('{inbox}/telemetry/*.parquet') where metric = "
        "'DCGM_FI_DEV_POWER_USAGE'"
    ).fetchone()[0]
    energy = Decimal(watt_samples * 60) * Decimal("0.00000005")
    # labor at the standard rate: the four people (one per band) merge into "all staff"; all are employed the whole
    # of 2026 (261 working days), so the rate is their yearly pay / (4 x 261), to the cent, and January's 22 working
    # days cost 4 x 22 x rate; the rest of their pay (HR cost - allocated) is the variance, kept in the restricted
    # database
    hr_cost = sum(sum(person_cost(p, 7)) for p in range(4))
    rate = (hr_cost * 12 / (4 * 261)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    labor = 4 * 22 * rate
    owned = Decimal("3100.00") + Decimal("310.00")  # 100.00 a day depreciation + 310.00 maintenance, 31 days
    charges = Decimal("3100.00") + Decimal("6200.00") + Decimal("930.00")  # labels, server licence, notebooks
    delay = 4 * Decimal("500.00")  # Jan 11..14 late: opportunity cost, in economic cost only
    others = labor + owned + charges + energy
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as wh:
        by_source = dict(wh.execute("select source, sum(effective_cost) from ledger.cost_ledger group by 1").fetchall())
        total_billed, total_effective, total_economic = wh.execute(
            "select sum(billed_cost), sum(effective_cost), sum(economic_cost) from ledger.cost_ledger"
        ).fetchone()
        categories = {r[0] for r in wh.execute("select distinct category from ledger.cost_ledger").fetchall()}
        unreconciled = wh.execute(
            "select count(*) from marts.billing_reconciliation where billed_difference <> 0 or effective_difference <> "
            "0"
        ).fetchone()[0]
    assert by_source["billing"] == billing_effective
    assert by_source["labor"] == labor
    with duckdb.connect(str(root / "restricted" / "hr.duckdb"), read_only=True) as hr:
        variance = hr.execute("select allocated_cost, variance from labor_variance").fetchall()
    assert variance == [(labor, hr_cost - labor)]
    assert by_source["energy"] == energy
    assert total_effective == billing_effective + others
    assert total_billed == billing_billed + others
    assert by_source["milestones"] == 0 and total_economic == total_effective + delay
    assert categories == {"hardware", "software", "data", "labor", "operational", "time"}
    assert unreconciled == 0
