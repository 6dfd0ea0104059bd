"""The report on the generated estate: the planted optimisations are measured as planted, and the
model x category table equals SQL on ledger.cost_ledger."""

from __future__ import annotations

import csv
import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline import run
from pipeline.impact import FLAG_OTHER_ACTION, FLAG_SPANS_ZERO, month_impacts
from pipeline.report import format_money

pytestmark = pytest.mark.slow
MONTHS = {"2026-02": (date(2026, 2, 1), date(2026, 3, 1)), "2026-03": (date(2026, 3, 1), date(2026, 4, 1))}


@pytest.fixture(scope="module")
def truth(demo_estate) -> dict[tuple[str, str], dict[str, str]]:
    with (demo_estate.root / "truth_impact.csv").open(newline="") as handle:
        return {(r["action_date"], r["action"] + ":" + r["model_id"]): r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def impacts(demo_estate) -> dict[tuple[str, str], object]:
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        found = [i for start, end in MONTHS.values() for i in month_impacts(con, start, end)]
    return {(i.action.day.isoformat(), i.action.action + ":" + i.action.model_id): i for i in found}


def test_the_planted_truth_is_what_the_generator_says(truth) -> None:
    # rec-ranker-llm on gpu-node-2: 480 slots x 0.10 = 48.00 a day before, 336 x 0.10 = 33.60 after:
    # 33.60 / 48.00 - 1 = -0.3 (requests have the same distribution before and after)
    cut = truth[("2026-02-15", "quantization:rec-ranker-llm")]
    assert (Decimal(cut["gpu_cost_per_day_before"]), Decimal(cut["gpu_cost_per_day_after"])) == (
        Decimal("48"),
        Decimal("33.6"),
    )
    assert Decimal(cut["true_change"]) == Decimal("-0.3")
    # search-ranker: two pool GPUs all day, 576 slots x 0.10 = 57.60 before and after
    assert Decimal(truth[("2026-03-16", "autoscaling:search-ranker")]["true_change"]) == 0


def test_the_30_percent_cut_is_measured_and_its_interval_holds_the_truth(impacts, truth) -> None:
    i = impacts[("2026-02-15", "quantization:rec-ranker-llm")]
    true_change = float(truth[("2026-02-15", "quantization:rec-ranker-llm")]["true_change"])
    assert i.scope == "gpu" and i.verdict == "measured" and i.flags == ()
    assert i.change.low <= float(i.change.relative) <= i.change.high
    assert i.change.low <= true_change <= i.change.high
    assert i.did_low <= true_change <= i.did_high
    # the GPU cost is the category that moved with it: hardware
    assert "hardware" in {c.category for c in i.categories if c.moved}
    # realised in February: 14 days x about 14.40 a day of GPU cost no longer paid, within 10 %
    assert abs(i.realised_saving - Decimal("201.60")) < Decimal("20.16")


def test_the_no_effect_change_is_inconclusive(impacts) -> None:
    i = impacts[("2026-03-16", "autoscaling:search-ranker")]
    assert i.verdict == "inconclusive" and FLAG_SPANS_ZERO in i.flags
    assert i.change.low <= 0.0 <= i.change.high


def test_the_confounded_changes_are_flagged(impacts) -> None:
    first = impacts[("2026-03-09", "right_sizing:query-rewrite-llm")]
    second = impacts[("2026-03-13", "autoscaling:query-rewrite-llm")]
    for i, other in ((first, second), (second, first)):
        assert i.verdict == "confounded" and FLAG_OTHER_ACTION in i.flags
        assert other.action in i.others
    # and query-rewrite-llm is no control for the no-effect change whose window holds them
    assert "query-rewrite-llm" not in impacts[("2026-03-16", "autoscaling:search-ranker")].controls


def _html_table(text: str, table_id: str) -> list[list[str]]:
    """The body rows of <table id=...> as cell texts."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', text, re.S)
    assert body is not None
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


@pytest.mark.parametrize("month", sorted(MONTHS))
def test_every_model_category_figure_equals_sql(demo_estate, month: str) -> None:
    index = run.report(demo_estate.root, month)
    start, end = MONTHS[month]
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        sql = {
            (m, c): v
            for m, c, v in con.execute(
                """select model_id, category, sum(effective_cost) from ledger.cost_ledger
               where charge_date >= ? and charge_date < ? group by model_id, category""",
                [start, end],
            ).fetchall()
        }
        categories = [r[0] for r in con.execute("select distinct category from ledger.cost_ledger").fetchall()]
    with (index.parent / "model_category.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = [c for c in rows[0] if c not in ("model_id", "total", "currency")]
    assert set(categories) <= set(header)
    for row in rows:  # exact, every decimal
        for c in header:
            assert Decimal(row[c]) == sql.get((row["model_id"], c), Decimal(0)), (row["model_id"], c)
        assert Decimal(row["total"]) == sum((v for (m, _), v in sql.items() if m == row["model_id"]), Decimal(0))
    shown = _html_table(index.read_text(encoding="utf-8"), "model-category")
    assert [r[0] for r in shown] == [r["model_id"] for r in rows]
    for cells in shown:  # as displayed: the SQL sum rounded half-even to cents
        model = cells[0]
        expected = [format_money(sql.get((model, c), Decimal(0))) for c in header]
        expected.append(format_money(sum((v for (m, _), v in sql.items() if m == model), Decimal(0))))
        assert cells[1:] == expected, model


def test_chinese_report_and_files(demo_estate) -> None:
    index = run.report(demo_estate.root, "2026-02", lang="zh")
    text = index.read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in text and "优化效果" in text and "已测得" in text
    folder = index.parent
    assert (folder / "index.zh.html").read_text(encoding="utf-8") == text
    assert '<html lang="en">' in (folder / "index.en.html").read_text(encoding="utf-8")  # kept beside it
    for name in (
        "summary.md",
        "summary.en.md",
        "summary.zh.md",
        "model_category.csv",
        "model_category.parquet",
        "impact.csv",
        "impact.parquet",
        "recommendations.csv",
        "recommendations.parquet",
        "daily_cost.parquet",
        *(
            f"charts/{chart}{suffix}.png"
            for chart in ("category", "trend", "unit_costs", "impact")
            for suffix in ("", ".en", ".zh")
        ),
    ):
        assert (folder / name).stat().st_size > 0, name
    assert "http://" not in text and "https://" not in text and "<script" not in text.lower()
    run.report(demo_estate.root, "2026-02")  # leave English as the default page for other tests


def test_every_chart_draws_a_model_in_its_one_colour(demo_estate) -> None:
    from tests.report.test_report_views import assert_one_colour_per_model

    folder = run.report(demo_estate.root, "2026-02").parent
    for name in ("index.en.html", "index.zh.html"):
        page = (folder / name).read_text(encoding="utf-8")
        colours = assert_one_colour_per_model(page, {"category", "trend", "unit-costs", "impact"})
        assert "rec-ranker-llm" in colours and "__idle__" in colours


def test_the_pool_idle_share_is_shown_beside_the_total(demo_estate) -> None:
    page = (run.report(demo_estate.root, "2026-02").parent / "index.en.html").read_text(encoding="utf-8")
    with duckdb.connect(str(demo_estate.root / "warehouse.duckdb"), read_only=True) as con:
        idle, hours = con.execute(
            """select sum(gpu_hours) filter (where model_id = '__idle__'), sum(gpu_hours) from marts.gpu_efficiency
               where pool = 'eks-gpu' and charge_date >= '2026-02-01' and charge_date < '2026-03-01'"""
        ).fetchone()
    # the cloud pool is idle much more of its GPU time than __idle__ is of all cost (a few percent)
    share = format_money(idle * 100 / hours, 1)
    assert Decimal(share) > 30
    assert (
        f'data-pool="eks-gpu"><div class="label">Idle share of GPU time, pool eks-gpu</div><div class="value">{share} %'
        in page
    )


# Words a Chinese reader meets as they are: abbreviations, units, currency codes, format names,
# and the language switch's link to the English page, named in English.
ZH_ALLOWED_WORDS = {"AI", "GPU", "Token", "PUE", "USD", "EUR", "CSV", "Parquet", "k", "English"}
IDENTIFIER = re.compile(r"[A-Za-z0-9]+(?:[_.:/-][A-Za-z0-9*]+)+")
ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ \t,;:]+[A-Za-z]+){2,}")  # 3+ ASCII words in a row


def _data_strings(root: Path) -> list[str]:
    """Text the inputs bring, shown as it was written: model ids, the optimisation log's
    descriptions, milestone names, providers, account names, the names in reason codes
    (unmapped_workload:sandbox). Longest first (removed in order)."""
    sql = """select distinct model_id from ledger.cost_ledger
             union select distinct description from staging.optimizations
             union select distinct split_part(unallocated_reason, ':', 2) from ledger.cost_ledger
             union select distinct milestone from marts.milestones
             union select distinct provider from marts.billing_reconciliation
             union select distinct SubAccountName from staging.billing"""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        values = [r[0] for r in con.execute(sql).fetchall() if r[0]]
    return sorted(values, key=lambda v: (-len(v), v))


def _visible_text(page: str, code: str) -> str:
    """The words a reader sees: tags stripped (chart text kept), entities decoded, and code spans
    (identifiers: model ids, file names, reason codes) taken out after checking none holds prose."""
    spans = [html.unescape(s) for s in re.findall(code, page, re.S)]
    assert [s for s in spans if ENGLISH_RUN.search(s)] == []
    page = re.sub(code, " ", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _english_left(visible: str, data: list[str]) -> tuple[list[str], set[str]]:
    """(runs of 3+ English words, other English words) once the data's own text and identifiers
    (ledger.cost_ledger, charge_date, unmapped_workload:sandbox, model_category.csv) are taken out."""
    for value in data:
        visible = visible.replace(value, " ")
    visible = IDENTIFIER.sub(" ", visible)
    words = {w for w in re.findall(r"[A-Za-z]+", visible) if w not in ZH_ALLOWED_WORDS}
    return ENGLISH_RUN.findall(visible), words


@pytest.mark.parametrize("month", sorted(MONTHS))
def test_the_chinese_report_has_no_english_prose(demo_estate, month: str) -> None:
    index = run.report(demo_estate.root, month, lang="zh").parent / "index.zh.html"
    data = _data_strings(demo_estate.root)
    page = _visible_text(index.read_text(encoding="utf-8"), r"<code>(.*?)</code>")
    summary = _visible_text((index.parent / "summary.zh.md").read_text(encoding="utf-8"), r"`([^`]*)`")
    for visible in (page, summary):
        runs, words = _english_left(visible, data)
        assert runs == [] and words == set(), (runs, sorted(words))
    # the chart labels are in the page (inline SVG text): axis titles, legends, panel titles
    assert "有效成本（USD）" in page and "硬件" in page and "每千次请求 (USD)" in page
    assert "优化效果" in summary and "已付费但没有工作负载占用的 GPU 时间" in summary
    with (index.parent / "recommendations.csv").open(newline="", encoding="utf-8") as handle:
        evidence = [r["evidence"] for r in csv.DictReader(handle)]
    assert evidence and all(re.search(r"[\u4e00-\u9fff]", e) for e in evidence), evidence
    # the check sees English: the same page in English is full of it
    english = run.report(demo_estate.root, month)  # and leaves English the default page for other tests
    runs, words = _english_left(_visible_text(english.read_text(encoding="utf-8"), r"<code>(.*?)</code>"), data)
    assert len(runs) > 50 and {"Provider", "exact", "loaded", "idle"} <= words


def test_recommendations_on_the_estate(demo_estate) -> None:
    folder = run.report(demo_estate.root, "2026-02").parent
    with (folder / "recommendations.csv").open(newline="") as handle:
        recs = {(r["kind"], r["subject"]): r for r in csv.DictReader(handle)}
    # gpu-node-1 runs on demand every hour of February: 4.80 x 24 x 28 = 3225.60, x 30 % = 967.68
    assert Decimal(recs[("commitment", "eks-gpu")]["estimated_monthly_saving"]) == Decimal("967.68")
    # embeddings' GPUs are planted at 10-34 % busy: fewer GPUs would do
    assert ("low_utilisation", "embeddings") in recs
    # gpu-node-2 after Feb 15: rec-ranker's second GPU is idle 20 h a day; the node is idle > 20 %
    assert ("idle_gpu", "gpu-node-2") in recs
