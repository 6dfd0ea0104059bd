"""summary.md: the month's headline numbers and tables in Markdown, in the report's language
(model x category, phases, idle and unallocated money, GPU pools, optimisation impact and
recommendations). Data shown in it (model ids, actions) is written as code spans, safe in a cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pipeline import impact as impact_
from pipeline.columns import BUCKETS
from pipeline.display import format_money, interval_text, percent, signed
from pipeline.i18n import TEXT, label, text
from pipeline.report.data import ReportData, incomplete_text, matrix_rows, phase_table, share


def _md_code(text: str) -> str:
    """Text as a Markdown code span, safe in a table cell: no HTML, emphasis or cell breaks."""
    text = text.replace("\n", " ").replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table, numbers right-aligned (every column after the first)."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _headline_lines(data: ReportData, t: Any) -> list[str]:
    """Markdown headline: totals, per category, month over month."""
    cube, cur = data.cube, data.currency
    lines = [f"> {incomplete_text(data, t)}", ""] if data.incomplete_sources else []
    lines += [
        f"- {t('effective_cost')}: **{format_money(cube.cost())} {cur}**",
        f"- {t('billed_cost')}: **{format_money(cube.billed_cost())} {cur}**",
        f"- {t('economic_cost')}: {format_money(data.economic)} {cur} "
        f"({t('economic_sub', opportunity=format_money(data.opportunity), cur=cur)})",
    ]
    change, percent = data.mom.change(cube.cost()), data.mom.percent(cube.cost())
    if change is None:
        lines.append(f"- {t('mom')}: {t('na')} ({data.mom.note(t)})")
    else:
        pct = f" ({signed(percent, 1)} %)" if percent is not None else ""
        previous = data.mom.previous.key
        lines.append(f"- {t('mom')} {t('vs')} {previous}: {signed(change)} {cur}{pct}")
    rows = [
        [label(t, "cat_", c), format_money(cube.cost(None, c)), format_money(cube.billed_cost(None, c))]
        for c in cube.categories()
    ]
    return lines + ["", *_md_table([t("category"), t("effective"), t("billed")], rows)]


def summary_md(data: ReportData, t: Any = None) -> str:
    """summary.md: headline numbers, the model x category table, idle and unallocated totals,
    optimisation impact and recommendations."""
    t = t or text("en")
    cube = data.cube
    lines = [f"# {t('title')} {data.month.key}", ""]
    if cube.empty:
        empty = t("empty", table="ledger.cost_ledger", month=data.month.key)
        return "\n".join([*lines, empty, ""])
    lines += [t("summary_currency", cur=data.currency), ""]
    lines += _headline_lines(data, t)
    lines += ["", f"## {t('by_model')}", ""]
    rows = [[_md_code(r["model_id"]), *(format_money(v) for v in (*r["cells"], r["total"]))] for r in matrix_rows(cube)]
    totals = [
        f"**{t('total')}**",
        *(format_money(cube.cost(None, c)) for c in cube.categories()),
        format_money(cube.cost()),
    ]
    lines += _md_table([t("model"), *(label(t, "cat_", c) for c in cube.categories()), t("total")], [*rows, totals])
    phases, phase_rows = phase_table(data)
    if phase_rows:
        lines += ["", f"## {t('by_phase')}", ""]
        lines += _md_table(
            [t("model"), *(label(t, "phase_", ph) for ph in phases), t("total")],
            [[_md_code(r["model_id"]), *(format_money(v) for v in (*r["cells"], r["total"]))] for r in phase_rows],
        )
    lines += ["", f"## {t('idle')}", ""]
    lines += _md_table(
        [t("bucket"), t("meaning"), t("effective"), t("billed")],
        [
            [_md_code(b), t(f"bucket_{b}"), format_money(cube.cost(b)), format_money(cube.billed_cost(b))]
            for b in BUCKETS
        ],
    )
    if data.pools:
        idle_share = _percent_text(share(cube.cost("__idle__"), cube.cost()), t)
        lines += ["", t("pool_idle_intro", bucket="`__idle__`", share=idle_share, table="`marts.gpu_efficiency`"), ""]
        rows = [
            [
                f"{label(t, 'pool_', p['pool'])} {_md_code(p['pool'])}"
                if label(t, "pool_", p["pool"]) != p["pool"]
                else _md_code(p["pool"]),
                format_money(p["gpu_hours"], 1),
                format_money(p["idle_hours"], 1),
                _percent_text(p["idle_share"], t),
                format_money(p["cost"]),
                format_money(p["idle_cost"]),
                _percent_text(share(p["idle_cost"], cube.cost()), t),
            ]
            for p in data.pools
        ]
        lines += _md_table(
            [
                t("col_pool"),
                t("col_gpu_hours"),
                t("col_idle_hours"),
                t("col_pool_idle_share"),
                t("col_pool_cost"),
                t("col_idle_cost"),
                t("col_idle_of_total"),
            ],
            rows,
        )
    lines += ["", f"## {t('impact')}", ""]
    if data.impacts:
        na = t("na")
        rows = [
            [
                f"{i.action.day.isoformat()} {_md_code(i.action.model_id)} {_md_action(i.action.action, t)}",
                t("scope_gpu") if i.scope == impact_.SCOPE_GPU else t("scope_all"),
                format_money(i.change.before, 4) if i.change.before is not None else na,
                format_money(i.change.after, 4) if i.change.after is not None else na,
                percent(i.change.relative, na=na),
                interval_text(i.change.low, i.change.high, na=na),
                percent(i.did, na=na),
                format_money(i.realised_saving) if i.realised_saving is not None else na,
                t(i.verdict),
            ]
            for i in data.impacts
        ]
        lines += _md_table(
            [
                t("action"),
                t("scope"),
                t("before"),
                t("after"),
                t("change"),
                t("interval"),
                t("did"),
                t("saving"),
                t("verdict"),
            ],
            rows,
        )
    else:
        lines.append(t("no_impact", month=data.month.key))
    lines += ["", f"## {t('recommendations')}", ""]
    if data.recommendations:
        rows = [
            [t(f"kind_{r.kind}"), _md_code(r.subject), format_money(r.amount), format_money(r.saving)]
            for r in data.recommendations
        ]
        lines += _md_table([t("kind"), t("subject"), t("amount"), t("est_saving")], rows)
    else:
        lines.append(t("no_recs", month=data.month.key))
    return "\n".join([*lines, ""])


def _percent_text(share: Decimal | None, t: Any) -> str:
    """A share already in percent, for reading ('45.2 %'), or n/a in t's language."""
    return t("na") if share is None else f"{format_money(share, 1)} %"


def _md_action(action: str, t: Any) -> str:
    """An optimisation action for Markdown: a known one in t's language, anything else (data from
    the optimisation log) as a code span."""
    return t(f"act_{action}") if f"act_{action}" in TEXT else _md_code(action)
