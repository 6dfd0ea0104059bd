"""Anomaly alerts: the anomalies (marts.anomalies) above their band by at least the configured
`alert_excess`, on the `alert_days` days up to the run's day and not alerted before, sent through
Airflow notifiers and recorded in meta.anomaly_alerts (each is sent once). With
`on_alert = "fail"` the step then fails (AnomalyAlert), so the DAG run shows red."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipeline import lock, warehouse
from pipeline.config import Anomalies
from pipeline.errors import CostLedgerError
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)
COLUMNS = ("charge_date", "model_id", "category", "currency", "actual", "expected", "upper_bound", "excess")


class AnomalyAlert(CostLedgerError):
    """New cost anomalies crossed the alert threshold and the config says to fail on them."""


def new_anomalies(con: duckdb.DuckDBPyConnection, settings: Anomalies, day: date) -> list[dict[str, Any]]:
    """Anomalies to alert on as of `day` (oldest first in the list's order of excess)."""
    first = day - timedelta(days=settings.alert_days - 1)
    params = {"min_excess": settings.alert_excess, "first": first, "last": day}
    rows = con.execute(warehouse.sql_text("publish", "new_anomalies"), params).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def describe(anomalies: list[dict[str, Any]]) -> str:
    """The alert's text: one line per anomaly."""
    lines = [f"{len(anomalies)} new cost anomal{'y' if len(anomalies) == 1 else 'ies'} above the expected band:"]
    for a in anomalies:
        lines.append(
            f"  {a['charge_date']} {a['model_id']} {a['category']}: {_money(a['actual'])} {a['currency']}, "
            f"expected {_money(a['expected'])} (band up to {_money(a['upper_bound'])}; {_money(a['excess'])} above it)"
        )
    return "\n".join(lines)


def alert(
    workspace: Path | str | Workspace, *, day: date, context: Mapping[str, Any] | None = None, alerted_by: str = "cli"
) -> list[dict[str, Any]]:
    """Send the new anomalies as of `day` through the configured notifiers (default: the log),
    then record them; raise AnomalyAlert afterwards when `on_alert = "fail"`. Returns them."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    settings = ws.config.anomalies
    with lock.hold(ws.root, "alert"), warehouse.connect(ws.warehouse) as con:
        found = new_anomalies(con, settings, day)
        if not found:
            log.info("no new cost anomalies above the band by %s or more up to %s", settings.alert_excess, day)
            return []
        text = describe(found)
        _notify(settings, {**(context or {}), "anomalies": found, "anomaly_text": text})
        now = datetime.now(UTC).replace(tzinfo=None)
        with warehouse.transaction(con):  # after sending: a failed send is retried, never lost
            warehouse.insert_values(
                con, "insert into meta.anomaly_alerts", [[a[c] for c in COLUMNS] + [now, alerted_by] for a in found]
            )
    if settings.on_alert == "fail":
        raise AnomalyAlert(text)
    return found


def _notify(settings: Anomalies, context: dict[str, Any]) -> None:
    from pipeline.marts import notifiers

    chosen = [
        notifiers.build(n.class_path, n.kwargs, key=f"anomalies.notifiers.{i}")
        for i, n in enumerate(settings.notifiers)
    ] or [notifiers.LogNotifier()]
    for notifier in chosen:
        notifier(context)
