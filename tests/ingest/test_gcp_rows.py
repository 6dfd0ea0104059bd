"""GCP exports: the column-wise path (rows without credits, tags once per label pair, objects
decoded column-wise) gives what the row-by-row rules give, on awkward rows too."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipeline.ingest.billing import gcp
from pipeline.ingest.parse import read_json_lines_text

LABELS = '[{"key": "model", "value": "ranker"}]'
ROWS = [
    # cost, credits, labels, project.labels
    ("1.25", None, LABELS, "[]"),  # no credits: billed = effective = cost
    (" 2.5 ", "[]", LABELS, '[{"key": "team", "value": "ml"}]'),
    ("3", "{}", None, None),  # an empty list read back from JSON lines
    ("4.00", '[{"name": "CUD", "amount": "-1.5", "type": "COMMITTED_USAGE_DISCOUNT", "id": "cud-1"}]', LABELS, "[]"),
    (
        "0",
        "[{'name': 'promo', 'amount': -0.75, 'type': 'PROMOTION'}]",
        "[{'key': 'model', 'value': 'llm'}]",
        None,
    ),  # Python literals
    ("5", None, "not a list", "[]"),  # bad labels: the row gets no money (quarantined later)
    ("6", "[{bad", LABELS, "[]"),  # bad credits
    ("x", None, LABELS, "[]"),  # a bad cost: left for coerce to name
]


def test_derived_columns_equal_the_row_by_row_rules() -> None:
    frame = pl.DataFrame(
        ROWS, schema={c: pl.String for c in ("cost", "credits", "labels", "project.labels")}, orient="row"
    )
    expected = [gcp._row_money(row) for row in frame.iter_rows(named=True)]
    got = pl.DataFrame(gcp._derived(frame)).rows()
    # the reference gives Decimal text (str(cost + credits)); the column path keeps the delivered
    # cost text: equal as numbers, and None exactly where the reference has None
    # a bad cost stays as delivered here (the reference gives None): coerce then quarantines the
    # row naming `cost`, which it checks before the derived columns, so the outcome is the same
    assert got[7][:2] == ("x", "x") and expected[7][0] is None
    for (billed, effective, credit_only, cud, tags), row in zip(expected[:7], got[:7], strict=True):
        assert (row[0] is None) == (billed is None) and (row[1] is None) == (effective is None)
        if billed is not None:
            assert Decimal(row[0]) == Decimal(billed) and Decimal(row[1]) == Decimal(effective)
        assert row[2:] == (credit_only, cud, tags)
    # by hand: row 4, 4.00 - 1.50 CUD credit = 2.50 billed; effective leaves the CUD out: 4.00
    assert (got[3][0], got[3][1], got[3][3]) == ("2.50", "4.00", "cud-1")
    # row 5: cost 0 with only a promotion credit is a Credit row of -0.75, Python-literal labels read
    assert (got[4][0], got[4][2], json.loads(got[4][4])) == ("-0.75", "true", {"model": "llm"})
    assert got[5][0] is None and got[6][0] is None  # bad labels, bad credits


def test_json_lines_objects_flatten_to_the_csv_names(tmp_path: Path) -> None:
    lines = [
        {
            "billing_account_id": "A",
            "service": {"id": "s1", "description": "Compute Engine"},
            "usage": {"amount": 1.50, "unit": "hour"},
            "project": {"id": "p1", "labels": [{"key": "team", "value": "ml"}]},
            "cost": 1.0,
            "credits": [],
            "invoice": {"month": "202602"},
        },
        {
            "billing_account_id": "A",
            "service": {"id": "s2", "description": "BigQuery"},
            "usage": {"amount": 2, "unit": "byte"},
            "project": {"id": "p2"},
            "cost": 2.0,
            "credits": [],
            "invoice": {"month": "202602"},
        },
    ]
    path = tmp_path / "gcp.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    flat = gcp._flatten(read_json_lines_text(path, data=path.read_bytes()))
    # numbers keep the delivered text (1.50 is written by json.dumps as 1.5); project (a list
    # inside) goes row by row, the other objects column-wise: the same dotted columns either way
    assert flat.select("service.description", "usage.amount", "usage.unit", "project.id", "invoice.month").rows() == [
        ("Compute Engine", "1.5", "hour", "p1", "202602"),
        ("BigQuery", "2", "byte", "p2", "202602"),
    ]
    assert (
        json.loads(flat.item(0, "project.labels")) == [{"key": "team", "value": "ml"}]
        and flat.item(1, "project.labels") is None
    )
    assert "service" not in flat.columns and "project" not in flat.columns
