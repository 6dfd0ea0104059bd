"""The monthly report: a self-contained HTML page (inline CSS, inline SVG charts with a hover
title per bar and point, no script) and a Markdown summary in English and in Simplified Chinese,
CSV and Parquet extracts and PNG charts, all read from the published warehouse. Optimisation
impact comes from `pipeline.impact`, the recommendations from `pipeline.recommend`.

Every amount is a `Decimal` summed by DuckDB; Python only arranges them. Values become floats only
on their way into matplotlib, and are rounded only for display, in `pipeline.display.format_money`.

The modules, by job: `data` (what a report holds), `queries` (reading the warehouse; the SQL is in
sql/report/), `style` and `charts` (matplotlib, fonts, inline SVG), `html` (the page), `markdown`
(the summary), `extracts` (CSV and Parquet). `write_report` puts them together.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipeline.display import format_money
from pipeline.i18n import LANGUAGES, text
from pipeline.report.charts import render_charts
from pipeline.report.data import MODEL_COLOURS, Cube, Month, ReportData, ReportSettings, phase_table
from pipeline.report.extracts import (
    EXTRACTS,
    extract_csv,
    extract_parquet,
    extract_rows,
    model_category_csv,
    write_text,
)
from pipeline.report.html import render_page
from pipeline.report.markdown import summary_md
from pipeline.report.queries import collect
from pipeline.report.style import CJK_FONTS, cjk_font

__all__ = [
    "CJK_FONTS",
    "EXTRACTS",
    "MODEL_COLOURS",
    "Cube",
    "Month",
    "ReportData",
    "ReportSettings",
    "cjk_font",
    "collect",
    "format_money",
    "phase_table",
    "write_report",
]


def write_report(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    out_dir: Path,
    lang: str = "en",
    settings: ReportSettings | None = None,
) -> Path:
    """Write out_dir/ for month 'YYYY-MM': the page and the Markdown summary in every language
    (index.en.html, index.zh.html, summary.en.md, summary.zh.md; each page links to the others),
    index.html and summary.md in `lang` (the default language), the extracts (CSV and Parquet, their
    text in `lang`) and charts/*.png (in `lang`; charts/*.<language>.png in each). Return the
    index.html path."""
    t = text(lang)  # a bad language fails before anything is read
    data = collect(con, month, settings)
    texts: dict[str, str] = {}
    pngs: dict[str, bytes] = {}
    for code in LANGUAGES:  # rendered before anything is written
        svgs, code_pngs = render_charts(data, code)
        texts[f"index.{code}.html"] = render_page(data, svgs, code)
        texts[f"summary.{code}.md"] = summary_md(data, text(code))
        pngs |= {f"{name}.{code}.png": png for name, png in code_pngs.items()}
        if code == lang:
            pngs |= {f"{name}.png": png for name, png in code_pngs.items()}
    texts["index.html"] = texts[f"index.{lang}.html"]
    texts["summary.md"] = texts[f"summary.{lang}.md"]
    extracts = extract_rows(data, t)
    texts["model_category.csv"] = model_category_csv(data)
    texts |= {f"{name}.csv": extract_csv(rows) for name, rows in extracts.items() if name != "model_category"}
    out_dir = Path(out_dir)
    (out_dir / "charts").mkdir(parents=True, exist_ok=True)
    for name, body in texts.items():
        write_text(out_dir / name, body)
    for name, rows in extracts.items():
        extract_parquet(rows, out_dir / f"{name}.parquet")
    for name, png in pngs.items():
        tmp = out_dir / "charts" / f"{name}.tmp"
        tmp.write_bytes(png)
        os.replace(tmp, out_dir / "charts" / name)
    return out_dir / "index.html"
