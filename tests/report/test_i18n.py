"""Report text in both languages: every key has an English and a Chinese text with the same
placeholders, every key the page and the code ask for exists, and the text built from data
(recommendation evidence, reason codes, check results, chart labels) is said in the report's
language."""

from __future__ import annotations

import io
import re
import string
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline import impact, recommend, report
from pipeline.columns import BUCKETS, CATEGORIES
from pipeline.i18n import LANGUAGES, TEXT, label, text
from pipeline.report import charts, style
from pipeline.report import html as report_html
from pipeline.validate import SEVERITIES
from pipeline.workspace import SOURCES

PIPELINE = Path(report.__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
EN, ZH = text("en"), text("zh")


def fields(template: str) -> set[tuple[str, str]]:
    """The placeholders of a text with their format specs: {share:.1f} -> ('share', '.1f')."""
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


def test_every_key_has_english_and_chinese_with_the_same_placeholders() -> None:
    assert LANGUAGES == ("en", "zh")
    for key, texts in TEXT.items():
        assert len(texts) == 2, key
        en, zh = texts
        assert en.strip() and zh.strip(), key
        assert CJK.search(zh), f"{key}: the Chinese text {zh!r} has no Chinese in it"
        assert fields(en) == fields(zh), key


def test_every_key_the_report_asks_for_exists() -> None:
    used: set[str] = set()
    report_modules = sorted((PIPELINE / "report").glob("*.py"))
    for path in (PIPELINE / "templates" / "report.html.j2", *report_modules, PIPELINE / "recommend.py"):
        source = path.read_text(encoding="utf-8")
        # t("key"), t('key'), t(f"prefix_{...}") (a prefix: its values are listed below)
        used |= {k for k in re.findall(r"""\bt\(\s*f?["']([a-z0-9_]+)""", source) if not k.endswith("_")}
        used |= set(re.findall(r'"(ev_[a-z_]+)"', source))  # recommendation evidence keys
    assert len(used) > 100  # the scan found the page's keys, not nothing
    # keys made from a fixed vocabulary
    used |= {f"kind_{k}" for k in ("idle_gpu", "low_utilisation", "commitment", "untagged")}
    used |= {
        f"flag_{f}"
        for f in (impact.FLAG_SPANS_ZERO, impact.FLAG_OTHER_ACTION, impact.FLAG_TOO_FEW_DAYS, impact.FLAG_NO_CONTROLS)
    }
    used |= {"measured", "inconclusive", "confounded"}
    used |= {f"bucket_{b}" for b in BUCKETS} | {f"cat_{c}" for c in CATEGORIES}
    used |= {f"act_{a}" for a in impact.ACTION_SCOPE} | {f"src_{s}" for s in SOURCES}
    used |= {f"severity_{s}" for s in SEVERITIES.values()}
    used |= {f"status_{s}" for s in ("loaded", "superseded", "rejected")}
    assert sorted(used - TEXT.keys()) == []


def test_a_value_outside_the_vocabulary_is_shown_as_it_is() -> None:
    assert label(ZH, "cat_", "hardware") == "硬件" and label(EN, "cat_", "hardware") == "hardware"
    assert label(ZH, "act_", "prompt_caching") == "prompt_caching"  # an action the log made up


def test_recommendation_evidence_in_both_languages() -> None:
    # gpu-node-9: idle 67 of 100 paid -> 67.0 %; saving 67 - 0.20 x 100 = 47
    (idle,) = recommend.idle_gpu(
        [{"host": "gpu-node-9", "cloud": True, "gpu_cost": Decimal(100), "idle_cost": Decimal(67)}]
    )
    assert idle.saving == Decimal(47)
    assert idle.evidence_text(EN) == idle.evidence == "cloud node: idle 67.0% of paid GPU time (target 20%)"
    assert idle.evidence_text(ZH) == "云节点：已付费 GPU 时间中 67.0% 闲置（目标 20%）"
    # 1,888 GPU-hours 22 % busy: 1888 x 22 / 70 = 593.4 -> 594 needed; saving 944 x (1 - 594/1888) = 647
    (low,) = recommend.low_utilisation(
        [{"model_id": "m", "gpu_hours": Decimal(1888), "gpu_cost": Decimal(944)}], {"m": 22.0}
    )
    assert low.saving == Decimal(647)
    assert low.evidence_text(EN) == (
        "GPUs busy 22.0% on average over 1,888 GPU-hours; at 70% 594 GPU-hours would do: "
        "fewer replicas or a smaller GPU"
    )
    assert (
        low.evidence_text(ZH)
        == "1,888 GPU 小时内 GPU 平均忙碌率 22.0%；按 70% 计算只需 594 GPU 小时：可减少副本或换用更小的 GPU"
    )
    # 4.80 an hour x 672 hours = 3,225.60 covered; x 30 % = 967.68
    (commit,) = recommend.commitment(672, Decimal("4.80"), Decimal("3300"), 672, pool="eks-gpu")
    assert commit.saving == Decimal("967.68")
    assert commit.evidence_text(EN) == (
        "672 on-demand hours; 4.80 an hour ran every hour: a commitment at an assumed "
        "30% discount would have covered it"
    )
    assert commit.evidence_text(ZH).startswith("672 个按需小时；每小时都有 4.80 的用量在运行")
    (untagged,) = recommend.untagged(
        [{"account": "1234", "account_name": "sandbox", "reasons": "no_matching_rule", "effective_cost": Decimal(5)}]
    )
    assert untagged.evidence_text(ZH) == "没有归属模型：no_matching_rule"


def test_reason_codes_and_check_results_are_said_in_chinese() -> None:
    assert report_html.reason_text(ZH, "unmapped_workload:sandbox") == "命名空间 sandbox 的工作负载未映射到模型"
    assert report_html.reason_text(EN, "unregistered_model:legacy-ranker") == "model legacy-ranker is not registered"
    assert report_html.reason_text(ZH, "some_new_code") == ""  # unknown: only the code is shown
    assert report_html.observed_text(ZH, "3 of 10 rows unexpected, e.g. a; b") == "10 行中有 3 行不符合预期，例如 a; b"
    assert report_html.observed_text(EN, "3 of 10 rows unexpected, e.g. a; b") == "3 of 10 rows unexpected, e.g. a; b"
    assert report_html.observed_text(ZH, "observed 0.5") == "观测值：0.5"
    assert report_html.observed_text(ZH, "something else") == "something else"  # not ours to reword


def _zh_chart_png() -> bytes:
    """The category chart of a one-model month, labelled in Chinese, as PNG."""
    one = {
        ("m", "hardware"): Decimal(1),
        ("m", None): Decimal(1),
        (None, "hardware"): Decimal(1),
        (None, None): Decimal(1),
    }
    cube = report.Cube(effective=one, billed=one)
    with style.chart_style("zh"):
        fig = charts._category_chart(cube, "USD", ZH, "zh")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


def test_zh_charts_without_a_cjk_font_still_render(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing-glyph warning would fail here
        png = _zh_chart_png()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_zh_charts_draw_chinese_with_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    if report.cjk_font() is None:
        pytest.skip(f"no CJK font installed (one of {', '.join(report.CJK_FONTS)}; Debian: fonts-noto-cjk)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every Chinese glyph is found: no missing-glyph warning
        drawn = _zh_chart_png()
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    boxes = _zh_chart_png()
    assert drawn != boxes  # the font drew glyphs where the fallback draws empty boxes
