"""The report's charts, drawn with matplotlib in the report's language: cost by model stacked
by category, daily cost per model with the optimisation days marked, unit costs per day, and the
measured impact of each optimisation. `render_charts` returns each as inline SVG (for the page)
and PNG (files beside it); floats are used only on the way into matplotlib.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from pipeline import impact as impact_
from pipeline.columns import BUCKETS
from pipeline.display import format_money, interval_text, percent
from pipeline.i18n import label, text
from pipeline.report import style
from pipeline.report.data import CATEGORY_COLOURS, EXACT, OTHER_COLOUR, ZERO, Cube, ReportData
from pipeline.report.style import Tips, chart_style, inline_svg

log = logging.getLogger(__name__)
BAR_CHART_MODELS = 20  # models drawn as their own bar; the rest are drawn as one "other" bar
TREND_CHART_MODELS = 8  # models drawn as their own line


def _short(label: str, limit: int = 28) -> str:
    """A model id shortened for an axis label (the tables show it in full)."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _bar_models(cube: Cube) -> tuple[list[str], list[str]]:
    """The models drawn as their own bar, and the rest (drawn as one bar)."""
    models = cube.models()
    shown, rest = models[: BAR_CHART_MODELS - 1], models[BAR_CHART_MODELS - 1 :]
    return (models, []) if len(rest) == 1 else (shown, rest)


def _bar_series(cube: Cube, t: Any = None) -> tuple[list[str], dict[str, list[float]]]:
    """Bar labels and per-category float values; models past the limit become one bar."""
    t = t or text("en")
    shown, rest = _bar_models(cube)
    labels = [_short(m) for m in shown] + ([t("other_models", n=len(rest))] if rest else [])
    series = {}
    for category in cube.categories():
        values = [float(cube.cost(m, category)) for m in shown]
        if rest:
            values.append(sum(float(cube.cost(m, category)) for m in rest))
        series[category] = values
    return labels, series


def _money_tip(value: Decimal, currency: str | None) -> str:
    return f"{format_money(value)} {currency or ''}".rstrip()


def _category_chart(
    cube: Cube,
    currency: str,
    t: Any,
    lang: str = "en",
    *,
    colours: Mapping[str, str] | None = None,
    tips: Tips | None = None,
) -> Any:
    """Stacked bars: effective cost per model, stacked by category (negatives stack downwards);
    under each bar a square in the model's colour."""
    from matplotlib.figure import Figure

    colours = colours or {}
    tips = tips or Tips("category")
    labels, series = _bar_series(cube, t)
    shown, rest = _bar_models(cube)
    with chart_style(lang):
        fig = Figure(figsize=(9, 4.2))
        ax = fig.subplots()
        up, down = [0.0] * len(labels), [0.0] * len(labels)
        for category, values in series.items():
            bottom = [u if v >= 0 else d for v, u, d in zip(values, up, down, strict=True)]
            colour = CATEGORY_COLOURS.get(category, OTHER_COLOUR)
            bars = ax.bar(range(len(labels)), values, bottom=bottom, color=colour, label=label(t, "cat_", category))
            for i, bar in enumerate(bars):
                exact = (
                    cube.cost(shown[i], category)
                    if i < len(shown)
                    else sum((cube.cost(m, category) for m in rest), ZERO)
                )
                tips.add(
                    bar,
                    f"{shown[i] if i < len(shown) else labels[i]} \u00b7 {label(t, 'cat_', category)}: "
                    f"{_money_tip(exact, currency)}",
                )
            up = [u + max(v, 0.0) for v, u in zip(values, up, strict=True)]
            down = [d + min(v, 0.0) for v, d in zip(values, down, strict=True)]
        for i, model in enumerate(shown):  # the model's colour, as in the line charts
            square = ax.plot(
                [i],
                [-0.035],
                marker="s",
                markersize=6,
                linestyle="none",
                color=colours.get(model, OTHER_COLOUR),
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )[0]
            tips.add(square, f"{model}: {_money_tip(cube.cost(model), currency)}", model)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.tick_params(axis="x", length=0, pad=10)
        ax.set_ylabel(t("chart_effective_cost", cur=currency))
        ax.axhline(0, color="#333333", linewidth=0.6)
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return fig


def _trend_series(data: ReportData, t: Any = None) -> dict[str, list[float]]:
    """Per-model float values for every day of the month; small models summed into one line."""
    return {k: [float(v) for v in values] for k, values in _trend_exact(data, t).items()}


def _trend_exact(data: ReportData, t: Any = None) -> dict[str, list[Decimal]]:
    """Per-model effective cost of every day of the month (exact); small models summed into one
    line, keyed by the "(n other models)" label."""
    t = t or text("en")
    days = {d: i for i, d in enumerate(data.month.days())}
    totals: dict[str, float] = {}
    for _, model, cost in data.daily:
        totals[model] = totals.get(model, 0.0) + abs(float(cost))
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    limit = TREND_CHART_MODELS if len(ranked) > TREND_CHART_MODELS + 1 else len(ranked)
    shown = set(ranked[:limit])
    other = t("other_models", n=len(ranked) - len(shown))
    series = {m: [ZERO] * len(days) for m in ranked if m in shown}
    with localcontext(EXACT):
        for day, model, cost in data.daily:
            key = model if model in shown else other
            values = series.setdefault(key, [ZERO] * len(days))
            values[days[day]] += cost
    return series


def _mark_events(ax: Any, events: list[tuple[date, str, str]], t: Any) -> None:
    """A dashed vertical line per optimisation day, labelled 'model: action'."""
    by_day: dict[date, list[str]] = {}
    for day, model, action in events:
        by_day.setdefault(day, []).append(f"{_short(model, 20)}: {label(t, 'act_', action)}")
    for day, labels in by_day.items():
        ax.axvline(day.day, color="#444444", linestyle="--", linewidth=0.8)
        ax.text(
            day.day,
            1.0,
            " " + "; ".join(labels),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="#222222",
        )


def _line(ax: Any, tips: Tips, points: list[tuple[date, float, str]], colour: str, name: str, model: str | None) -> Any:
    """One series: its line (dashed for a bucket: money no model carries), and a point per day
    with its own hover text ('name, day: value')."""
    style = "--" if model in BUCKETS else "-"
    handle = ax.plot([p[0].day for p in points], [p[1] for p in points], linewidth=1.2, color=colour, linestyle=style)[
        0
    ]
    tips.add(handle, name, model)
    for day, value, shown in points:
        point = ax.plot([day.day], [value], marker="o", markersize=3, linestyle="none", color=colour)[0]
        tips.add(point, f"{name}, {day.isoformat()}: {shown}", model)
    return handle


def _trend_chart(
    data: ReportData, t: Any, lang: str = "en", *, colours: Mapping[str, str] | None = None, tips: Tips | None = None
) -> Any:
    """Lines of daily effective cost per model in the model's colour, optimisation events as
    vertical lines; hovering a point shows its model, day and amount."""
    from matplotlib.figure import Figure

    colours = colours or {}
    tips = tips or Tips("trend")
    series = _trend_exact(data, t)
    days = data.month.days()
    with chart_style(lang):
        fig = Figure(figsize=(9, 4.0))
        ax = fig.subplots()
        handles = []
        for key, values in series.items():
            model = key if key in colours else None
            points = [(day, float(v), _money_tip(v, data.currency)) for day, v in zip(days, values, strict=True)]
            handles.append(_line(ax, tips, points, colours.get(key, OTHER_COLOUR), key, model))
        _mark_events(ax, data.events, t)
        ax.set_xlim(0.5, days[-1].day + 0.5)
        ax.set_xlabel(t("chart_day_of", month=data.month.key))
        ax.set_ylabel(t("chart_cost_per_day", cur=data.currency))
        # Labels passed explicitly: matplotlib would hide automatic labels starting with "_".
        ax.legend(
            handles, [_short(m) for m in series], fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0)
        )
        return fig


def _unit_chart(
    data: ReportData, t: Any, lang: str = "en", *, colours: Mapping[str, str] | None = None, tips: Tips | None = None
) -> Any:
    """Three panels over the days of the month, one line per model in its colour: effective cost
    per 1,000 requests, per million tokens, and GPU cost per GPU-hour (floats, for plotting only)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    colours = colours or {}
    tips = tips or Tips("unit")
    panels = (
        (t("per_1k"), "effective_cost", "requests", 1000.0),
        (t("per_1m"), "effective_cost", "tokens", 1_000_000.0),
        (t("per_gpu_hour"), "gpu_cost", "gpu_hours", 1.0),
    )
    models = sorted({r["model_id"] for r in data.unit_daily})
    with chart_style(lang):
        fig = Figure(figsize=(9, 7.2))
        axes = fig.subplots(3, 1, sharex=True)
        for ax, (title, numerator, denominator, per) in zip(axes, panels, strict=True):
            handles, labels = [], []
            for model in models:
                points = [
                    (r["day"], float(r[numerator]) * per / float(r[denominator]))
                    for r in data.unit_daily
                    if r["model_id"] == model and r[denominator]
                ]
                if points:
                    shown = [(day, v, f"{v:,.4f} {data.currency or ''}".rstrip()) for day, v in points]
                    handles.append(
                        _line(ax, tips, shown, colours.get(model, OTHER_COLOUR), f"{model} \u00b7 {title}", model)
                    )
                    labels.append(_short(model))
            _mark_events(ax, data.events, t)
            ax.set_title(f"{title} ({data.currency})", fontsize=9, loc="left")
            ax.set_yscale("log")
            # plain tick labels: mathtext is off (model names may hold "$"), so no 10^x labels
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            if handles:
                ax.legend(handles, labels, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axes[-1].set_xlim(0.5, len(data.month.days()) + 0.5)
        axes[-1].set_xlabel(t("chart_day_of", month=data.month.key))
        return fig


def _impact_chart(
    data: ReportData, t: Any, lang: str = "en", *, colours: Mapping[str, str] | None = None, tips: Tips | None = None
) -> Any:
    """One row per action: the change in cost per 1,000 requests with its 95% interval, and the
    difference in differences (floats: statistical estimates); a square in the model's colour
    at the start of each row."""
    from matplotlib.figure import Figure

    colours = colours or {}
    tips = tips or Tips("impact")
    rows = [i for i in data.impacts if i.change.relative is not None]
    scope = {impact_.SCOPE_GPU: t("scope_gpu"), impact_.SCOPE_ALL: t("scope_all")}
    with chart_style(lang):
        fig = Figure(figsize=(9, 1.0 + 0.55 * max(len(rows), 1)))
        ax = fig.subplots()
        for y, i in enumerate(rows):
            name = f"{i.action.day.isoformat()} {i.action.model_id}: {label(t, 'act_', i.action.action)}"
            point = float(i.change.relative) * 100
            colour = {"measured": "#0072B2", "inconclusive": "#999999", "confounded": "#D55E00"}[i.verdict]
            if i.change.low is not None:
                bar = ax.plot(
                    [i.change.low * 100, i.change.high * 100], [y, y], color=colour, linewidth=4, solid_capstyle="butt"
                )[0]
                tips.add(bar, f"{name}: {t('interval')} {interval_text(i.change.low, i.change.high, na=t('na'))}")
            dot = ax.plot([point], [y], "o", color="#1a1a1a", markersize=5)[0]
            tips.add(dot, f"{name}: {t('change')} {percent(i.change.relative, na=t('na'))} ({t(i.verdict)})")
            if i.did is not None:
                diamond = ax.plot([i.did * 100], [y - 0.25], "D", color=colour, markersize=5, markerfacecolor="white")[
                    0
                ]
                tips.add(diamond, f"{name}: {t('did')} {percent(i.did, na=t('na'))}")
            square = ax.plot(
                [-0.012],
                [y],
                marker="s",
                markersize=6,
                linestyle="none",
                color=colours.get(i.action.model_id, OTHER_COLOUR),
                transform=ax.get_yaxis_transform(),
                clip_on=False,
            )[0]
            tips.add(square, i.action.model_id, i.action.model_id)
        ax.axvline(0, color="#333333", linewidth=0.8)
        labels = [
            f"{i.action.day.isoformat()} {_short(i.action.model_id, 20)}: {label(t, 'act_', i.action.action)} "
            f"({scope.get(i.scope, i.scope)})"
            for i in rows
        ]
        ax.set_yticks(range(len(rows)), labels)
        ax.tick_params(axis="y", length=0, pad=12)
        ax.set_ylim(len(rows) - 0.5, -0.8)
        ax.set_xlabel(t("chart_impact_x"))
        return fig


def render_charts(data: ReportData, lang: str = "en") -> tuple[dict[str, str], dict[str, bytes]]:
    """Every chart as inline SVG (for the page, with hover titles) and PNG (files beside it),
    labelled in `lang`, each model in its one colour."""
    if data.cube.empty:
        return {}, {}
    t = text(lang)
    colours = data.colours()
    figures = {
        "category": lambda tips: _category_chart(data.cube, data.currency or "", t, lang, colours=colours, tips=tips),
        "trend": lambda tips: _trend_chart(data, t, lang, colours=colours, tips=tips),
    }
    if data.unit_daily:
        figures["unit_costs"] = lambda tips: _unit_chart(data, t, lang, colours=colours, tips=tips)
    if any(i.change.relative is not None for i in data.impacts):
        figures["impact"] = lambda tips: _impact_chart(data, t, lang, colours=colours, tips=tips)
    if lang == "zh" and style.cjk_font() is None:
        log.warning(
            "no CJK font found (%s): the Chinese text of the PNG charts shows as boxes", ", ".join(style.CJK_FONTS)
        )
    svgs, pngs = {}, {}
    with chart_style(lang):
        for name, build in figures.items():
            tips = Tips(name.replace("_", "-"))
            fig = build(tips)
            svgs[name] = inline_svg(fig, f"{name}-chart", tips)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110, metadata={"Software": None}, bbox_inches="tight")
            pngs[name] = buf.getvalue()
    return svgs, pngs
