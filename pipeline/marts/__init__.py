"""The marts Python fills when a period is published: forecasts (marts.cost_forecast), savings over
time (marts.optimization_savings) and price, volume and mix (marts.price_volume_mix); and the
configuration the SQL marts read (meta.model_registry, meta.anomaly_settings). The other marts
are views over the published ledger (sql/marts/)."""

from __future__ import annotations

import duckdb

from pipeline.config import Config


def refresh(con: duckdb.DuckDBPyConnection, config: Config, period: str) -> dict[str, int]:
    """Refresh what publishing `period` changes, inside the publish transaction (the marts and the
    ledger commit together): the registry and anomaly settings, the forecasts and price, volume
    and mix of the period and the month after it (its comparison base moved), and every action's
    savings. Returns the rows written per table."""
    from pipeline.marts import drivers, forecast, registry, savings

    registry.write(con, config)
    months = [period]
    later = drivers.next_month(period)
    if con.execute("select 1 from ledger.cost_ledger where billing_period = ? limit 1", [later]).fetchone():
        months.append(later)
    r = config.report
    return {
        "cost_forecast": forecast.refresh(con, months, draws=r.bootstrap_draws, seed=r.bootstrap_seed),
        "price_volume_mix": drivers.refresh(con, months),
        "optimization_savings": savings.refresh(
            con, before_days=r.impact_window_days, draws=r.bootstrap_draws, seed=r.bootstrap_seed
        ),
    }
