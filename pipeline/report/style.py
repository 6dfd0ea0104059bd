"""How the charts look and how they reach the page: matplotlib's settings for the report
(Agg, text as SVG text, print sizes), the CJK font the Chinese charts fall back to, and the
conversion of a figure into an inline <svg> with a hover title per bar and point.
"""

from __future__ import annotations

import functools
import html
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import escape_control

# Fonts with Chinese glyphs for the charts of a zh report, first found wins; font files whose
# names match _CJK_FILES are registered when matplotlib's font cache predates them.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Noto Sans CJK JP",
)
_CJK_FILES = re.compile(r"NotoSansCJK|NotoSansSC|SourceHanSans|wqy-|DroidSansFallback", re.I)
_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


@functools.cache
def cjk_font() -> str | None:
    """The first of CJK_FONTS matplotlib can use, or None. A font installed after matplotlib built
    its font cache (the test set-up installs fonts-noto-cjk) is registered here, in memory."""
    from matplotlib import font_manager

    def found() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in names), None)

    if found() is None:
        for path in sorted(font_manager.findSystemFonts()):
            if _CJK_FILES.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    return found()


@contextmanager
def chart_style(lang: str = "en") -> Iterator[None]:
    """Agg backend, text as SVG <text> (no embedded or external fonts), no mathtext parsing of
    model names, print-friendly sizes. Chinese text falls back glyph by glyph to a CJK font; with
    none installed the PNGs show empty boxes for it (the page's inline SVG text is drawn by the
    browser with its own fonts), so matplotlib's missing-glyph warnings are silenced."""
    import matplotlib

    matplotlib.use("Agg")
    font = cjk_font() if lang == "zh" else None
    with (
        warnings.catch_warnings(),
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "text.parse_math": False,
                # a CJK font as a second family: matplotlib's fallback works between families
                "font.family": ["sans-serif", font] if font else "sans-serif",
                "font.size": 9,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        if lang == "zh" and font is None:
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from (current )?font")
        yield


class Tips:
    """Hover text for the elements of one chart: each bar, point or swatch gets an id; the SVG then
    gets a <title> in its group (every browser shows it on hover: no script, nothing to fetch) and,
    for an element drawn in a model's colour, the model in a data-model attribute."""

    def __init__(self, chart: str) -> None:
        self.chart = chart
        self.items: dict[str, tuple[str, str | None]] = {}

    def add(self, artist: Any, title: str, model: str | None = None) -> Any:
        """Give `artist` the hover text `title`; `model`: the model whose colour it is drawn in."""
        gid = f"{self.chart}-tip-{len(self.items)}"
        artist.set_gid(gid)
        self.items[gid] = (title, model)
        return artist

    def apply(self, svg: str) -> str:
        """The SVG with a <title> (escaped, control characters written as escapes) per element."""

        def titled(match: re.Match[str]) -> str:
            title, model = self.items[match[1]]
            attrs = f' class="series" data-model="{html.escape(escape_control(model))}"' if model is not None else ""
            return f'<g id="{match[1]}"{attrs}>\n<title>{html.escape(escape_control(title))}</title>'

        return re.sub(rf'<g id="({re.escape(self.chart)}-tip-\d+)">', titled, svg)


def inline_svg(fig: Any, salt: str, tips: Tips | None = None) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE, metadata or namespace URLs
    (HTML5 does not need them), deterministic ids, a hover title per bar and point."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata=_SVG_METADATA, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    head, rest = svg.split(">", 1)
    svg = _XMLNS.sub("", head) + ">" + rest
    return tips.apply(svg) if tips is not None else svg
