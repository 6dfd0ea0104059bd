"""The parts of the configuration the decision marts read in SQL: the model registry with its
dated moves (meta.model_registry) and the anomaly band settings (meta.anomaly_settings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from pipeline.config import Anomalies, Config, Model
from pipeline.warehouse import insert_values

RegistryRow = tuple[str, str, str, str, str, date | None, date | None]


def ownership(model: Model) -> list[RegistryRow]:
    """One row per period of the model's ownership: (id, name, business line, team, owner, from,
    to). The first runs from the beginning (None), each move starts the next, the last is open."""
    current = {"business_line": model.business_line, "team": model.team, "owner": model.owner}
    starts: list[date | None] = [None, *(m.since for m in model.moves)]
    states = [dict(current)]
    for move in model.moves:
        current |= {k: v for k in current if (v := getattr(move, k)) is not None}
        states.append(dict(current))
    ends = [*starts[1:], None]
    return [
        (model.id, model.name, s["business_line"], s["team"], s["owner"], start, end)
        for s, start, end in zip(states, starts, ends, strict=True)
    ]


def settings_row(anomalies: Anomalies) -> tuple[int, Decimal, Decimal, Decimal, list[str]]:
    a = anomalies
    return (a.weeks, a.band_mads, a.min_band_share, a.min_band_amount, list(a.categories))


def write(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Replace meta.model_registry and meta.anomaly_settings with the configuration's (call inside
    the publish transaction)."""
    con.execute("delete from meta.model_registry")
    rows = [row for model in config.models for row in ownership(model)]
    insert_values(con, "insert into meta.model_registry", rows)
    con.execute("delete from meta.anomaly_settings")
    con.execute("insert into meta.anomaly_settings values (?, ?, ?, ?, ?)", list(settings_row(config.anomalies)))
