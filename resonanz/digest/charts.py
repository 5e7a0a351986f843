"""Charts as PNG bytes, drawn with matplotlib's object API (no pyplot state, safe in web threads)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from resonanz.answers.format import segment_short
from resonanz.answers.pareto import ParetoResult
from resonanz.core import i18n
from resonanz.core.i18n import _

CLASS_COLOURS = {"A": "#1565c0", "B": "#ef6c00", "C": "#8e24aa", "prospect": "#9e9e9e", "unvalued": "#bdbdbd"}


def _series_label(name: str) -> str:
    """A class code in words (A, B, C, prospects ...); topics stay as they are."""
    return segment_short(name) if name in CLASS_COLOURS else name


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _empty(fig: Figure, message: str) -> bytes:
    ax = fig.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555555")
    ax.set_axis_off()
    return _png(fig)


def pareto_chart(pareto: ParetoResult, title: str | None = None) -> bytes:
    fig = Figure(figsize=(7, 3.6))
    if not pareto.rows or not (pareto.total_posts or pareto.total_revenue):
        return _empty(fig, _("No posts or revenue yet"))
    ax = fig.subplots()
    names = [_series_label(r.segment) for r in pareto.rows]
    xs = list(range(len(names)))
    series = [
        (_("customers"), [r.customer_share or 0.0 for r in pareto.rows], "#90caf9"),
        (_("revenue"), [r.revenue_share or 0.0 for r in pareto.rows], "#1565c0"),
        (_("posts (voice)"), [r.voice_share or 0.0 for r in pareto.rows], "#ef6c00"),
    ]
    width = 0.27
    for i, (label, values, colour) in enumerate(series):
        bars = ax.bar([x + (i - 1) * width for x in xs], [v * 100 for v in values], width, label=label, color=colour)
        ax.bar_label(bars, labels=[i18n.percent(v) for v in values], fontsize=7, padding=1)
    ax.set_xticks(xs, names)
    ax.set_ylabel(_("share, %"))
    ax.set_ylim(0, 110)
    ax.set_title(title or _("Share of voice vs. share of revenue"), fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def trend_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    colours: Mapping[str, str] | None = None,
    ylim: tuple[float, float] | None = None,
) -> bytes:
    """One line per series over ``labels``; ``None`` values leave gaps."""
    fig = Figure(figsize=(7, 3.4))
    if not series or all(v is None for values in series.values() for v in values):
        return _empty(fig, _("No data in this period"))
    ax = fig.subplots()
    xs = list(range(len(labels)))
    for name, values in series.items():
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(xs, ys, marker="o", markersize=3, label=_series_label(name), color=(colours or {}).get(name))
    step = max(1, len(labels) // 8)
    ax.set_xticks(xs[::step], [labels[i] for i in xs[::step]], fontsize=8)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
        if ylim[0] < 0 < ylim[1]:
            ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, ncols=min(5, len(series)), loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def sentiment_trend_chart(labels: Sequence[str], by_class: Mapping[str, Sequence[float | None]]) -> bytes:
    return trend_chart(
        labels,
        by_class,
        title=_("Value-weighted net sentiment by ABC class"),
        ylabel=_("net sentiment"),
        colours=CLASS_COLOURS,
        ylim=(-1.05, 1.05),
    )


def topic_trend_chart(labels: Sequence[str], by_topic: Mapping[str, Sequence[float | None]]) -> bytes:
    return trend_chart(
        labels,
        {k: [None if v is None else v * 100 for v in vs] for k, vs in by_topic.items()},
        title=_("Topic trends (value-weighted share of voice)"),
        ylabel=_("share, %"),
    )


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, xlabel: str, colour: str = "#c62828") -> bytes:
    """Horizontal bars, largest on top."""
    fig = Figure(figsize=(7, 0.5 + 0.4 * max(1, len(items))))
    if not items:
        return _empty(fig, _("Nothing to show"))
    ax = fig.subplots()
    names = [n for n, _ in items][::-1]
    values = [v for _, v in items][::-1]
    bars = ax.barh(names, values, color=colour)
    ax.bar_label(bars, labels=[i18n.number(v, 1) for v in values], fontsize=8, padding=2)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
