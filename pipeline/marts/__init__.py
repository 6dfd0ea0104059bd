"""The marts Python fills when a period is published: forecasts (marts.cost_forecast), savings over
time (marts.optimization_savings) and price, volume and mix (marts.price_volume_mix); and the
configuration the SQL marts read (meta.model_registry, meta.anomaly_settings). The other marts
are views over the published ledger (sql/marts/)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

import duckdb

from pipeline import warehouse
from pipeline.config import Config, Report
from pipeline.errors import ValidationFailed


def refresh(con: duckdb.DuckDBPyConnection, config: Config, period: str) -> dict[str, int]:
    """Refresh what publishing `period` changes, inside the publish transaction (the marts and the
    ledger commit together): the registry and anomaly settings, the forecasts and price, volume
    and mix of the period and the month after it (its comparison base moved), and every action's
    savings. Returns the rows written per table."""
    from pipeline.marts import drivers, forecast, registry

    registry.write(con, config)
    months = [period]
    later = drivers.next_month(period)
    if warehouse.first_row(con, "select 1 from ledger.cost_ledger where billing_period = ? limit 1", [later]):
        months.append(later)
    r = config.report
    # Python's default 28 significant digits cannot hold a DECIMAL(38, 18): quantizing a forecast of
    # three trillion to 18 places raised InvalidOperation. 80 digits hold any sum the ledger can.
    with forecast.kept_through(con, months):
        with localcontext() as context:
            context.prec = 80
            written = _refresh(con, months, r)
        reconcile(con, months, period=period)
    return written


def _refresh(con: duckdb.DuckDBPyConnection, months: list[str], r: Report) -> dict[str, int]:
    from pipeline.marts import drivers, forecast, savings

    return {
        "cost_forecast": forecast.refresh(con, months, draws=r.bootstrap_draws, seed=r.bootstrap_seed),
        "price_volume_mix": drivers.refresh(con, months),
        "optimization_savings": savings.refresh(
            con, before_days=r.impact_window_days, draws=r.bootstrap_draws, seed=r.bootstrap_seed
        ),
    }


def reconcile(con: duckdb.DuckDBPyConnection, months: list[str], *, period: str) -> None:
    """Raise ValidationFailed (the publish rolls back) when a refreshed mart does not add up to the
    ledger: price/volume/mix costs to the month's cost, the forecast's cost to date to the ledger's
    (up to the data_through day forecast.kept_through keeps)."""
    from pipeline.marts.drivers import next_month

    span = {
        "start": date.fromisoformat(min(months) + "-01"),
        "end": date.fromisoformat(next_month(max(months)) + "-01"),
        "months": months,
    }
    wrong = con.execute(warehouse.sql_text("publish", "mart_reconciliation"), span).fetchall()
    if wrong:
        lines = [
            f"  {mart} {month} {currency}: {_plain(mart_cost)} in the mart, {_plain(ledger_cost)} in the ledger"
            for mart, month, currency, mart_cost, ledger_cost in wrong
        ]
        raise ValidationFailed("\n".join([f"publishing {period}: marts disagree with the ledger:", *lines]))


def _plain(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")
