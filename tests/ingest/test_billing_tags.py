"""Tags as the billing adapters build and check them with column expressions (no per-row Python):
the CUR merge order and spelling, the same text whether a file repeats its tag sets (built once
per distinct set) or not, Parquet maps as JSON text, and FOCUS Tags that are not JSON objects
quarantined with the reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.ingest import billing
from pipeline.ingest.parse import read_bytes

CUR2_HEADER = (
    "bill_payer_account_id,bill_billing_period_start_date,line_item_line_item_type,line_item_usage_start_date,"
    "line_item_usage_end_date,line_item_unblended_cost,line_item_currency_code,resource_tags,cost_category,resource_tags_user_env"
)
PERIOD = "111,2026-02-01T00:00:00Z,Usage,2026-02-01T00:00:00Z,2026-02-01T01:00:00Z"
# row 1: a Name with quotes, a `user:` and a `user_` key, an empty value (dropped), a cost category,
#        and a flattened env column;
# row 2: env only in the map (the flattened column is empty, so the map's value stays);
# row 3: no tags at all
ROWS = [
    f'{PERIOD},1.5,USD,"{{""user:Name"": ""web \\""1\\"""", ""user_team"": ""ml"", ""empty"": """"}}","{{""proj"": ""x""}}",prod',  # noqa: E501 (one CSV row: its quoting is under test)
    f'{PERIOD},2.25,USD,"{{""user:env"": ""dev""}}",,',
    f"{PERIOD},0.1,USD,,,",
]
# by hand: keys sorted, `user:`/`user_` dropped, cost categories prefixed, json.dumps spacing
EXPECTED = [
    ('{"Name": "web \\"1\\"", "costCategory/proj": "x", "env": "prod", "team": "ml"}', 'web "1"'),
    ('{"env": "dev"}', None),
    (None, None),
]


def _read(path: Path) -> billing.Parsed:
    return billing.read(path, read_bytes(path))


def _tags(parsed: billing.Parsed) -> list[tuple[str | None, str | None]]:
    return [
        (r["Tags"], r["ResourceName"]) for r in parsed.rows.sort("row_number").select("Tags", "ResourceName").to_dicts()
    ]


def test_cur_tags_merge_in_order_with_names(tmp_path: Path) -> None:
    path = tmp_path / "cur2.csv"
    path.write_text("\n".join([CUR2_HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert _tags(_read(path)) == EXPECTED


def test_cur_tags_are_the_same_when_built_once_per_tag_set(tmp_path: Path) -> None:
    # 30 rows, 3 tag sets: at most 1 distinct set per 8 rows, so the tags are built per set and joined
    path = tmp_path / "cur2-repeated.csv"
    path.write_text("\n".join([CUR2_HEADER, *(ROWS * 10)]) + "\n", encoding="utf-8")
    parsed = _read(path)
    assert parsed.rows.height == 30
    assert _tags(parsed) == EXPECTED * 10


def test_cur_map_with_a_number_keeps_the_row_by_row_meaning(tmp_path: Path) -> None:
    # a number in the map is not text: the row-by-row path writes it as str(5) == "5"
    path = tmp_path / "cur2-number.csv"
    path.write_text(f'{CUR2_HEADER}\n{PERIOD},1,USD,"{{""user:size"": 5, ""Name"": ""n1""}}",,\n', encoding="utf-8")
    assert _tags(_read(path)) == [('{"Name": "n1", "size": "5"}', "n1")]


def test_parquet_map_columns_become_json_text(tmp_path: Path) -> None:
    text_map = pa.map_(pa.string(), pa.string())
    table = pa.table(
        {
            "bill_payer_account_id": ["111", "111"],
            "bill_billing_period_start_date": pa.array([datetime(2026, 2, 1)] * 2, pa.timestamp("ms")),
            "line_item_line_item_type": ["Usage", "Usage"],
            "line_item_usage_start_date": pa.array([datetime(2026, 2, 1)] * 2, pa.timestamp("ms")),
            "line_item_usage_end_date": pa.array([datetime(2026, 2, 1, 1)] * 2, pa.timestamp("ms")),
            "line_item_unblended_cost": [1.25, 2.0],
            "line_item_currency_code": ["USD", "USD"],
            "resource_tags": pa.array([[("user_Name", 'a"b'), ("user_team", "ml")], []], text_map),
            "product": pa.array([[("product_name", "EC2"), ("region_code", "us-east-1")], None], text_map),
        }
    )
    path = tmp_path / "cur2.parquet"
    pq.write_table(table, path)
    parsed = _read(path)
    assert _tags(parsed) == [('{"Name": "a\\"b", "team": "ml"}', 'a"b'), (None, None)]
    assert parsed.rows.get_column("ServiceName").to_list() == ["EC2", None]
    assert parsed.rows.get_column("RegionId").to_list() == ["us-east-1", None]
    # raw keeps the map as the JSON text json.dumps writes for it
    records = parsed.raw.sort("row_number").get_column("record").to_list()  # the delivered values, as a struct
    assert records[0]["resource_tags"] == '{"user_Name": "a\\"b", "user_team": "ml"}'
    assert records[1]["resource_tags"] == "{}"


def test_focus_tags_that_are_not_objects_are_quarantined(tmp_path: Path) -> None:
    header = (
        "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,"
        "BilledCost,EffectiveCost,BillingCurrency,ProviderName,ServiceName,Tags"
    )
    start = "a,2026-02-01,2026-03-01,2026-02-01,2026-02-02,Usage,1,1,USD,X,S"
    tags = ['"{""a"": ""b""}"', '"{""n"": 1, ""x"": {""y"": null}}"', '"[1,2]"', '"{bad"', '"""s"""', ""]
    path = tmp_path / "focus.csv"
    path.write_text("\n".join([header, *[f"{start},{t}" for t in tags]]) + "\n", encoding="utf-8")
    parsed = _read(path)
    assert parsed.rows.get_column("row_number").to_list() == [1, 2, 6]
    rejects = parsed.rejects.sort("row_number")
    assert rejects.get_column("row_number").to_list() == [3, 4, 5]
    assert set(rejects.get_column("column")) == {"Tags"}
    assert rejects.get_column("value").to_list() == ["[1,2]", "{bad", '"s"']
    assert rejects.filter(pl.col("reason").str.contains("JSON object")).height == 3
