"""Roll-ups by business line, team and owner (marts.daily_team_cost, marts.monthly_team_cost) from
the dated model registry: a model that moves keeps its history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.marts import registry
from tests.marts.conftest import add_cost

CONFIG = Config.model_validate(
    {
        "models": [
            {
                "id": "e",
                "name": "Embeddings",
                "business_line": "platform",
                "team": "ml-platform",
                "owner": "p",
                "moves": [
                    {"since": "2026-02-27", "team": "recsys"},  # the team moves; business line and owner stay
                    {"since": "2026-03-02", "business_line": "recommendation", "owner": "r"},
                ],
            }
        ]
    }
)


def test_ownership_periods_from_the_moves() -> None:
    assert registry.ownership(CONFIG.models[0]) == [
        ("e", "Embeddings", "platform", "ml-platform", "p", None, date(2026, 2, 27)),
        ("e", "Embeddings", "platform", "recsys", "p", date(2026, 2, 27), date(2026, 3, 2)),
        ("e", "Embeddings", "recommendation", "recsys", "r", date(2026, 3, 2), None),
    ]


def test_each_day_rolls_up_to_the_team_of_that_day(con) -> None:
    # e costs 10.00 a day from 25 February to 3 March: 25-26 Feb with ml-platform, 27 Feb - 1 Mar
    # with recsys (still platform, owner p), 2-3 Mar with recsys in recommendation (owner r).
    # __idle__ 5.00 on 25 Feb rolls up under its own name; `ghost` (not registered) 7.00 as unregistered.
    for i in range(7):
        add_cost(con, date(2026, 2, 25) + timedelta(days=i), "e", "hardware", "10")
    add_cost(con, date(2026, 2, 25), "__idle__", "hardware", "5")
    add_cost(con, date(2026, 2, 25), "ghost", "software", "7")
    registry.write(con, CONFIG)
    rows = con.execute(
        "select month, business_line, team, owner, category, models, effective_cost "
        "from marts.monthly_team_cost order by all"
    ).fetchall()
    assert rows == [
        # February: 2 days x 10 with ml-platform, 2 days x 10 with recsys
        ("2026-02", "__idle__", "__idle__", "__idle__", "hardware", 1, Decimal(5)),
        ("2026-02", "platform", "ml-platform", "p", "hardware", 1, Decimal(20)),
        ("2026-02", "platform", "recsys", "p", "hardware", 1, Decimal(20)),
        ("2026-02", "unregistered", "unregistered", "unregistered", "software", 1, Decimal(7)),
        # March: 1 March still platform/p, then recommendation/r
        ("2026-03", "platform", "recsys", "p", "hardware", 1, Decimal(10)),
        ("2026-03", "recommendation", "recsys", "r", "hardware", 1, Decimal(20)),
    ]
    # nothing counted twice or lost: 70 + 5 + 7 = 82, as the ledger
    assert con.execute("select sum(effective_cost) from marts.daily_team_cost").fetchone() == (Decimal(82),)
    day = con.execute(
        "select team, owner from marts.daily_team_cost where model_id = 'e' and charge_date = '2026-03-01'"
    ).fetchone()
    assert day == ("recsys", "p")


def test_a_registered_model_without_a_team_is_unassigned(con) -> None:
    add_cost(con, date(2026, 1, 5), "s", "hardware", "3")
    registry.write(con, Config.model_validate({"models": [{"id": "s", "name": "S", "business_line": "search"}]}))
    owned = con.execute("select business_line, team, owner from marts.daily_team_cost").fetchall()
    assert owned == [("search", "unassigned", "unassigned")]


@pytest.mark.parametrize(
    "moves, message",
    [
        ([{"since": "2026-03-01", "team": "a"}, {"since": "2026-02-01", "team": "b"}], "date order"),
        ([{"since": "2026-03-01"}], "give business_line, team or owner"),
    ],
)
def test_moves_are_checked_when_the_config_is_read(tmp_path, moves, message) -> None:
    from pipeline.config import load_config

    lines = ["[[models]]", 'id = "e"', 'name = "E"']
    for move in moves:
        lines.append("[[models.moves]]")
        lines += [f"{k} = {v}" if k == "since" else f'{k} = "{v}"' for k, v in move.items()]
    path = tmp_path / "costledger.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert "models.0.moves" in str(caught.value)
