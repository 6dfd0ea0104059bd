"""How the report shows things: one colour per model in every chart, hover titles on bars and
points, the idle share of each GPU pool beside the idle share of all cost, and the English and
Chinese pages written side by side, each linking to the other."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import warehouse
from pipeline.cli import app
from pipeline.columns import LEDGER_COLUMNS
from pipeline.report import MODEL_COLOURS, write_report
from tests.report.test_report import LEDGER_ROWS, ledger_row

MONTH = "2025-03"
CHART = re.compile(r'<figure class="chart" id="chart-([a-z-]+)">(.*?)</figure>', re.S)
SERIES = re.compile(r'<g id="[a-z-]+-tip-\d+" class="series" data-model="([^"]*)">(.*?)</g>', re.S)
COLOUR = re.compile(r"(?:fill|stroke): (#[0-9a-f]{6})")


def chart_colours(page: str) -> dict[str, dict[str, set[str]]]:
    """chart -> model -> the colours its elements drawn in the model's colour use."""
    found: dict[str, dict[str, set[str]]] = {}
    for chart, svg in CHART.findall(page):
        for model, body in SERIES.findall(svg):
            found.setdefault(chart, {}).setdefault(html.unescape(model), set()).update(COLOUR.findall(body))
    return found


def assert_one_colour_per_model(page: str, charts: set[str]) -> dict[str, str]:
    """Every model has exactly one colour, the same in every chart it is in; no two models share
    one (fewer models than colours); returns the model -> colour map."""
    found = chart_colours(page)
    assert charts <= set(found), sorted(found)
    colours: dict[str, set[str]] = {}
    for models in found.values():
        for model, used in models.items():
            colours.setdefault(model, set()).update(used)
    assert {m: c for m, c in colours.items() if len(c) != 1} == {}
    single = {m: next(iter(c)) for m, c in colours.items()}
    assert len(set(single.values())) == len(single)
    return single


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_report's hand-made March ledger, usage and optimisations, reported in English."""
    con = warehouse.connect(tmp_path_factory.mktemp("wh") / "w.duckdb")
    marks = ", ".join("?" for _ in LEDGER_COLUMNS)
    con.executemany(f"insert into ledger.cost_ledger values ({marks})", LEDGER_ROWS)
    con.executemany(
        "insert into staging.usage values ('u', ?, ?, ?, ?, ?, ?)",
        [
            (1, date(2025, 3, 1), "search-ranker", 1000, None, None),
            (2, date(2025, 3, 5), "rec-llm", 400, 600000, 400000),
        ],
    )
    # the registry's order gives the colours: rec-llm first although search-ranker sorts first
    con.executemany(
        "insert into meta.models values (?, ?, ?, 'line', 'owner')",
        [(1, "rec-llm", "Rec"), (2, "search-ranker", "Search")],
    )
    out = tmp_path_factory.mktemp("report")
    write_report(con, month=MONTH, out_dir=out)
    con.close()
    return out


def test_a_model_has_one_colour_in_every_chart(folder: Path) -> None:
    for name in ("index.en.html", "index.zh.html"):
        colours = assert_one_colour_per_model(
            (folder / name).read_text(encoding="utf-8"), {"category", "trend", "unit-costs"}
        )
        # registered models in configuration order, then the others by name; buckets are grey
        assert colours["rec-llm"] == MODEL_COLOURS[0] and colours["search-ranker"] == MODEL_COLOURS[1]
        assert colours["<script>alert(1)</script>"] == MODEL_COLOURS[2]
        assert colours["__idle__"] not in MODEL_COLOURS


def test_bars_and_points_have_hover_titles(folder: Path) -> None:
    page = (folder / "index.en.html").read_text(encoding="utf-8")
    titles = [html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", page, re.S)]
    # a bar segment: rec-llm hardware 20.00 - 1.00 credit + 6.00 fine-tuning = 25.00, exact,
    # rounded for display
    assert "rec-llm \u00b7 hardware: 25.00 USD" in titles
    # a point of the daily trend: rec-llm on 2025-03-06 is the -1.00 credit
    assert "rec-llm, 2025-03-06: -1.00 USD" in titles
    # a unit cost point: search-ranker on 2025-03-01: 10.50 x 1000 / 1000 requests = 10.5
    assert "search-ranker \u00b7 per 1,000 requests, 2025-03-01: 10.5000 USD" in titles
    # the model name is data: escaped in the title, never markup
    assert "<script>alert(1)</script>" not in page and "<script" not in page.lower()
    assert any(t.startswith("<script>alert(1)</script> \u00b7 data: 3.33 USD") for t in titles)


def test_english_and_chinese_pages_side_by_side(folder: Path) -> None:
    en = (folder / "index.en.html").read_text(encoding="utf-8")
    zh = (folder / "index.zh.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in en and '<html lang="zh-Hans">' in zh
    # each links to the other, and marks itself as the current page
    assert 'href="index.zh.html"' in en and 'href="index.en.html"' not in en
    assert 'href="index.en.html"' in zh and 'href="index.zh.html"' not in zh
    assert re.search(r'aria-current="page">English<', en) and re.search(r'aria-current="page">中文<', zh)
    # the default language (English here) is index.html and summary.md
    assert (folder / "index.html").read_bytes() == en.encode("utf-8")
    assert (folder / "summary.md").read_bytes() == (folder / "summary.en.md").read_bytes()
    assert "# AI 模型成本报告 2025-03" in (folder / "summary.zh.md").read_text(encoding="utf-8")
    for chart in ("category", "trend"):
        for suffix in ("", ".en", ".zh"):
            assert (folder / "charts" / f"{chart}{suffix}.png").stat().st_size > 0


def pool_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """One day, 2025-03-10, of GPU time in two pools and 1,000.00 of labor:

    cloud pool gpu-a (nodes node-.*): node-1, one GPU for 24 h at 1.00 an hour: model m1 held
      6 GPU-hours (6.00), 18 were held by no workload: __idle__ 18 GPU-hours (18.00)
    owned: host-9's depreciation, 24 GPU-hours at 0.50: m1 20 h (10.00), __idle__ 4 h (2.00)

    All effective cost: 6 + 18 + 10 + 2 + 1000 = 1036.00; __idle__ 18 + 2 = 20.00 of it:
    20 / 1036 = 1.93 % -> "1.9 %". The pools' idle shares are of their own GPU time:
    gpu-a 18 / 24 = 75.0 %, owned 4 / 24 = 16.67 % -> "16.7 %"."""
    con = warehouse.connect(path)
    rows = [
        ledger_row(
            "2025-03-10",
            "m1",
            "hardware",
            "6.00",
            source="billing",
            provider="aws",
            subcategory="gpu_compute",
            quantity=Decimal(6),
            quantity_unit="GPU-hours",
            source_ref="b:1",
        ),
        ledger_row(
            "2025-03-10",
            "__idle__",
            "hardware",
            "18.00",
            source="billing",
            provider="aws",
            subcategory="gpu_compute",
            quantity=Decimal(18),
            quantity_unit="GPU-hours",
            source_ref="b:1",
        ),
        ledger_row(
            "2025-03-10",
            "m1",
            "hardware",
            "10.00",
            source="assets",
            subcategory="depreciation",
            quantity=Decimal(20),
            quantity_unit="GPU-hours",
            source_ref="asset-1@host-9/0",
        ),
        ledger_row(
            "2025-03-10",
            "__idle__",
            "hardware",
            "2.00",
            source="assets",
            subcategory="depreciation",
            quantity=Decimal(4),
            quantity_unit="GPU-hours",
            source_ref="asset-1@host-9/0",
        ),
        ledger_row("2025-03-10", "m1", "labor", "1000.00", source="labor"),
    ]
    marks = ", ".join("?" for _ in LEDGER_COLUMNS)
    con.executemany(f"insert into ledger.cost_ledger values ({marks})", rows)
    con.execute(
        """insert into staging.billing (load_id, row_number, BillingPeriodStart, ChargePeriodStart, ChargePeriodEnd,
               ChargeCategory, BilledCost, EffectiveCost, BillingCurrency, ProviderName, ResourceName,
               x_BillingPeriod, x_SourceFormat)
           values ('b', 1, ?, ?, ?, 'Usage', 24, 24, 'USD', 'aws', 'node-1', ?, 'focus-1.2')""",
        [date(2025, 3, 1), date(2025, 3, 10), date(2025, 3, 11), MONTH],
    )
    con.execute("insert into meta.gpu_pools values (1, 'gpu-a', 'node-.*', null, 1, 'gpu_time', 'keep')")
    return con


def test_the_idle_share_of_each_pool_beside_the_idle_share_of_all_cost(tmp_path: Path) -> None:
    con = pool_warehouse(tmp_path / "w.duckdb")
    write_report(con, month=MONTH, out_dir=tmp_path / "r")
    con.close()
    page = (tmp_path / "r" / "index.en.html").read_text(encoding="utf-8")
    cards = re.search(r'<div class="cards" id="idle-shares">(.*?)</div>\s*<h3>', page, re.S)
    assert cards is not None
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cards.group(1))).split())
    assert "__idle__: share of all effective cost 1.9 %" in text
    assert "Idle share of GPU time, pool gpu-a 75.0 % 18.0 / 24.0 GPU-hours" in text
    assert "Idle share of GPU time, pool owned servers 16.7 % 4.0 / 24.0 GPU-hours" in text
    table = re.search(r'<table id="pool-idle">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert table is not None
    cells = [
        [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]
    # pool, GPU-hours, idle GPU-hours, idle share of the pool, pool cost, idle cost, idle cost of all cost
    # (gpu-a: 18.00 / 1036.00 = 1.74 %; owned: 2.00 / 1036.00 = 0.19 %)
    assert cells == [
        ["gpu-a", "24.0", "18.0", "75.0 %", "24.00", "18.00", "1.7 %"],
        ["owned servers owned", "24.0", "4.0", "16.7 %", "12.00", "2.00", "0.2 %"],
    ]
    summary = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert "`__idle__` is 1.9 % of all effective cost" in summary
    assert "| `gpu-a` | 24.0 | 18.0 | 75.0 % | 24.00 | 18.00 | 1.7 % |" in summary
    zh = (tmp_path / "r" / "index.zh.html").read_text(encoding="utf-8")
    assert "GPU 时间闲置比例，资源池 gpu-a" in zh and "75.0 %" in zh


def test_report_lang_sets_the_default_page_and_the_config_can_too(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    folder = ws / "reports" / "2025-03"
    done = runner.invoke(app, ["report", "-w", str(ws), "--month", MONTH, "--lang", "zh"])
    assert done.exit_code == 0, done.output
    assert '<html lang="zh-Hans">' in (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in (folder / "index.en.html").read_text(encoding="utf-8")  # not overwritten
    assert (folder / "summary.md").read_bytes() == (folder / "summary.zh.md").read_bytes()
    assert runner.invoke(app, ["report", "-w", str(ws), "--month", MONTH]).exit_code == 0
    assert '<html lang="en">' in (folder / "index.html").read_text(encoding="utf-8")
    config = ws / "costledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[report]\nlanguage = "zh"\n', encoding="utf-8")
    assert runner.invoke(app, ["report", "-w", str(ws), "--month", MONTH]).exit_code == 0
    assert '<html lang="zh-Hans">' in (folder / "index.html").read_text(encoding="utf-8")
    bad = runner.invoke(app, ["report", "-w", str(ws), "--month", MONTH, "--lang", "fr"])
    assert bad.exit_code == 2 and "expected one of en, zh" in bad.output
