"""index.html: the self-contained page (inline CSS, inline SVG charts, no script) rendered from
pipeline/templates/report.html.j2 with every value autoescaped, and the texts built from data
it shows (reason codes, failed checks' observed values) in the page's language.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from pipeline.columns import BUCKETS
from pipeline.display import format_money, interval_text, percent, signed
from pipeline.i18n import LANGUAGE_NAMES, LANGUAGES, TEXT, label, text
from pipeline.report.data import (
    CATEGORY_COLOURS,
    OTHER_COLOUR,
    ZERO,
    ReportData,
    incomplete_text,
    matrix_rows,
    phase_table,
    share,
)
from pipeline.report.extracts import EXTRACTS

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE = "report.html.j2"


_OBSERVED = re.compile(
    r"(?:(?P<count>\d+) of (?P<total>\d+) rows unexpected(?:, e\.g\. (?P<examples>.*))?"
    r"|observed (?P<value>.*)|error: (?P<error>.*))",
    re.S,
)


def observed_text(t: Any, observed: str) -> str:
    """A failed check's observed text (pipeline.validate writes it in English) in t's language;
    the values in it are data and stay as they are."""
    match = _OBSERVED.fullmatch(observed)
    if match is None:
        return observed
    if match["count"] is not None:
        said = t("obs_unexpected", count=match["count"], total=match["total"])
        return said + (t("obs_examples", examples=match["examples"]) if match["examples"] is not None else "")
    if match["value"] is not None:
        return t("obs_observed", value=match["value"])
    return t("obs_error", message=match["error"])


def reason_text(t: Any, reason: str) -> str:
    """What an unallocated_reason code ('unmapped_workload:sandbox') means, in t's language; ''
    for an unknown code (the code itself is shown beside it)."""
    code, _, value = reason.partition(":")
    return t(f"reason_{code}", value=value) if f"reason_{code}" in TEXT else ""


def render_page(data: ReportData, charts: dict[str, str], lang: str) -> str:
    """index.html rendered from the template, every value autoescaped."""
    import jinja2
    from markupsafe import Markup  # jinja2's own dependency

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    t = text(lang)
    env.filters["money"] = format_money
    env.filters["signed"] = signed
    env.filters["pct"] = functools.partial(percent, na=t("na"))
    s = data.settings
    return env.get_template(TEMPLATE).render(
        d=data,
        cube=data.cube,
        rows=matrix_rows(data.cube),
        phase_table=phase_table(data),
        incomplete=incomplete_text(data, t),
        charts={k: Markup(v) for k, v in charts.items()},
        buckets=BUCKETS,
        colours=CATEGORY_COLOURS,
        other_colour=OTHER_COLOUR,
        share=share,
        failed=[c for c in data.checks if not c["success"]],
        passed=sum(1 for c in data.checks if c["success"]),
        interval=functools.partial(interval_text, na=t("na")),
        label=functools.partial(label, t),
        reason=functools.partial(reason_text, t),
        observed=functools.partial(observed_text, t),
        total_saving=sum((r.saving for r in data.recommendations), ZERO),
        threshold=f"{float(s.idle_threshold) * 100:.0f}",
        discount=f"{float(s.commitment_discount) * 100:.0f}",
        lang=lang,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        html_lang=_html_lang,
        t=t,
        extracts=sorted(EXTRACTS),
    )


def _html_lang(lang: str) -> str:
    """The HTML lang attribute of a report language."""
    return "zh-Hans" if lang == "zh" else lang
