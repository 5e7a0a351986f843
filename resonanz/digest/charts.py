"""Charts as PNG bytes, drawn with matplotlib's object API (no pyplot state, safe in web threads).

The ``*_points`` variants draw the same chart and also say where each data point landed in the PNG
(:class:`PointChart`), so that the web dashboard can lay a link over every point (the digest e-mail keeps the
plain PNG).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

from resonanz.answers.format import segment_short
from resonanz.answers.pareto import ParetoResult
from resonanz.core import i18n
from resonanz.core.i18n import _

if TYPE_CHECKING:  # matplotlib is imported where a chart is drawn: the web app and the CLI start without it
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

log = logging.getLogger(__name__)

CLASS_COLOURS = {"A": "#1565c0", "B": "#ef6c00", "C": "#8e24aa", "prospect": "#9e9e9e", "unvalued": "#bdbdbd"}


def _series_label(name: str) -> str:
    """A class code in words (A, B, C, prospects ...); topics stay as they are."""
    return segment_short(name) if name in CLASS_COLOURS else name


CHARTS_KEPT = 64
"""How many drawn charts a process keeps (:func:`remembered`; a PNG is 20-60 KB)."""
_kept: OrderedDict[str, Any] = OrderedDict()
_kept_lock = threading.Lock()
F = TypeVar("F", bound=Callable[..., Any])


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def remembered(draw: F) -> F:
    """``draw`` with its last :data:`CHARTS_KEPT` results kept per process, keyed by its arguments and the current
    language (a chart is a pure function of both). Why: matplotlib takes 0.1-0.5 s a chart, and the dashboard page
    draws three for every view, also when its numbers come from the answer cache in 20 ms."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        what = [draw.__qualname__, i18n.current_language(), args, sorted(kwargs.items())]
        key = hashlib.sha256(json.dumps(what, default=_plain, sort_keys=True).encode()).hexdigest()
        with _kept_lock:
            if key in _kept:
                _kept.move_to_end(key)
                return _kept[key]
        drawn = draw(*args, **kwargs)
        with _kept_lock:
            _kept[key] = drawn
            while len(_kept) > CHARTS_KEPT:
                _kept.popitem(last=False)
        return drawn

    return cast(F, wrapper)


def preload() -> threading.Thread:
    """Import matplotlib and draw one small figure in a daemon thread, and return the thread.

    Why: charts import matplotlib where they are drawn, so that the CLI and the web app start without it; importing
    it took 0.75-0.9 s on a 2-core machine, and the first dashboard or ask page of every web worker paid that. A
    web app started by ``resonanz serve`` preloads it while it waits for its first request (a request that comes
    earlier waits for the import, as before)."""

    def load() -> None:
        from matplotlib.figure import Figure

        # what the charts draw (bars with labels, a line, ticks, a title, a legend), so the fonts, the text layout
        # and the PNG writer are loaded too: the first chart of a process took 70-160 ms longer than the next
        fig = Figure(figsize=(2, 1.5))
        ax = fig.subplots()
        bars = ax.bar([0, 1], [30, 60], 0.4, label="a")
        ax.bar_label(bars, labels=["30 %", "60 %"], fontsize=7, padding=1)
        ax.plot([0, 1], [20, 40], marker="o", label="b")
        ax.set_xticks([0, 1], ["A", "B"])
        ax.set_ylabel("%")
        ax.set_title("Resonanz", fontsize=11)
        ax.legend(fontsize=8, frameon=False, loc="upper right")
        _png(fig)
        log.debug("matplotlib preloaded")

    thread = threading.Thread(target=load, name="resonanz-charts-preload", daemon=True)
    thread.start()
    return thread


DPI = 100
PAD_INCHES = 0.1
"""The margin around the drawing (matplotlib's default for ``bbox_inches="tight"``)."""


@dataclass(frozen=True)
class ChartPoint:
    """One drawn data point: which series and position of the input, and its centre in the PNG's pixels."""

    series: str
    index: int
    value: float
    x: float
    """Pixels from the PNG's left edge."""
    y: float
    """Pixels from the PNG's top edge."""


@dataclass(frozen=True)
class PointChart:
    """A chart as PNG with the pixel position of every data point (none for an empty chart)."""

    png: bytes
    width: int
    height: int
    points: tuple[ChartPoint, ...]
    spacing: float
    """Pixels between two neighbouring positions on the x axis (how large a point's hot spot may be)."""


def _png(fig: Figure, bbox: Bbox | None = None) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches=bbox or "tight")
    return buf.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's header."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _empty(fig: Figure, message: str) -> bytes:
    ax = fig.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555555")
    ax.set_axis_off()
    return _png(fig)


@remembered
def pareto_chart(pareto: ParetoResult, title: str | None = None) -> bytes:
    from matplotlib.figure import Figure

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


@remembered
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
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.4))
    if _draw_trend(fig, labels, series, title=title, ylabel=ylabel, colours=colours, ylim=ylim) is None:
        return _empty(fig, _("No data in this period"))
    return _png(fig)


@remembered
def trend_chart_points(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    colours: Mapping[str, str] | None = None,
    ylim: tuple[float, float] | None = None,
) -> PointChart:
    """:func:`trend_chart` with the pixel position of each drawn point (``series`` key, index into ``labels``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.4), dpi=DPI)
    ax = _draw_trend(fig, labels, series, title=title, ylabel=ylabel, colours=colours, ylim=ylim)
    if ax is None:
        png = _empty(fig, _("No data in this period"))
        return PointChart(png, *png_size(png), points=(), spacing=0.0)
    bbox = fig.get_tightbbox().padded(PAD_INCHES)  # what bbox_inches="tight" saves
    png = _png(fig, bbox)

    def pixel(x: float, y: float) -> tuple[float, float]:
        dx, dy = ax.transData.transform((x, y))
        return float((dx / fig.dpi - bbox.x0) * DPI), float((bbox.y1 - dy / fig.dpi) * DPI)

    points = tuple(
        ChartPoint(name, i, float(v), *pixel(i, v))
        for name, values in series.items()
        for i, v in enumerate(values)
        if v is not None
    )
    spacing = pixel(1, 0)[0] - pixel(0, 0)[0] if len(labels) > 1 else float(png_size(png)[0])
    return PointChart(png, *png_size(png), points=points, spacing=spacing)


def _draw_trend(
    fig: Figure,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    colours: Mapping[str, str] | None,
    ylim: tuple[float, float] | None,
) -> Axes | None:
    """Draw :func:`trend_chart`'s lines into ``fig``; ``None`` (nothing drawn) when there is no value."""
    if not series or all(v is None for values in series.values() for v in values):
        return None
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
    return ax


def sentiment_trend_chart(labels: Sequence[str], by_class: Mapping[str, Sequence[float | None]]) -> bytes:
    return trend_chart(labels, by_class, **_sentiment_style())


def sentiment_trend_points(labels: Sequence[str], by_class: Mapping[str, Sequence[float | None]]) -> PointChart:
    """:func:`sentiment_trend_chart` with its points' positions (the web dashboard's clickable chart)."""
    return trend_chart_points(labels, by_class, **_sentiment_style())


def _sentiment_style() -> _Style:
    return {
        "title": _("Value-weighted net sentiment by ABC class"),
        "ylabel": _("net sentiment"),
        "colours": CLASS_COLOURS,
        "ylim": (-1.05, 1.05),
    }


def topic_trend_chart(labels: Sequence[str], by_topic: Mapping[str, Sequence[float | None]]) -> bytes:
    return trend_chart(labels, _percent(by_topic), **_topic_style())


def topic_trend_points(labels: Sequence[str], by_topic: Mapping[str, Sequence[float | None]]) -> PointChart:
    """:func:`topic_trend_chart` with its points' positions (values as drawn: shares in %)."""
    return trend_chart_points(labels, _percent(by_topic), **_topic_style())


def _topic_style() -> _Style:
    return {"title": _("Topic trends (value-weighted share of voice)"), "ylabel": _("share, %"), "colours": None,
            "ylim": None}  # fmt: skip


def _percent(by_topic: Mapping[str, Sequence[float | None]]) -> dict[str, list[float | None]]:
    return {k: [None if v is None else v * 100 for v in vs] for k, vs in by_topic.items()}


class _Style(TypedDict):
    title: str
    ylabel: str
    colours: Mapping[str, str] | None
    ylim: tuple[float, float] | None


@remembered
def bar_chart(items: Sequence[tuple[str, float]], *, title: str, xlabel: str, colour: str = "#c62828") -> bytes:
    """Horizontal bars, largest on top."""
    from matplotlib.figure import Figure

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
