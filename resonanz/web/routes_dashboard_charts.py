"""The dashboard's clickable charts: every point of the sentiment and topic charts links to the posts behind it.

A point's link is the very link of its table cell below the chart (the Ask page's post list for that class or
topic in that week, with the dashboard's platforms), built once here for both (:func:`cell_links`). The chart
stays matplotlib's PNG, as in the digest; the page lays it into an inline SVG of the same size and puts a
transparent link circle over each point (:func:`resonanz.digest.charts.trend_chart_points` says where each
landed). That needs no script and no inline style, so it works under the pages' CSP (``style-src 'self'``),
and it scales with the image at any width (the SVG's ``viewBox``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from resonanz.answers.dashboard import Dashboard
from resonanz.answers.format import segment_name
from resonanz.core import i18n
from resonanz.core.i18n import _, ngettext
from resonanz.digest.charts import ChartPoint, PointChart, sentiment_trend_points, topic_trend_points

MAX_RADIUS = 10.0
"""A point's clickable circle in the PNG's pixels, at most (smaller when the weeks lie closer together)."""
MIN_RADIUS = 3.0

Links = dict[str, list[str | None]]
"""Series (class or topic) -> per week the link to its posts (``None``: no posts, no link)."""


@dataclass(frozen=True)
class PointLink:
    href: str
    label: str
    """What the point is, for the tooltip and screen readers."""
    x: float
    y: float


@dataclass(frozen=True)
class LinkedChart:
    src: str
    width: int
    height: int
    radius: float
    points: tuple[PointLink, ...]


def ask_href(params: Sequence[tuple[str, str]]) -> str:
    """A link to the Ask page's post list, written as the dashboard's template writes its cell links."""
    return "/ask?" + "&".join(f"{key}={quote(value, safe='/')}" for key, value in params) + "#posts"


def cell_links(board: Dashboard, platforms: Sequence[str]) -> dict[str, Links]:
    """The links of the table cells and chart points: ``sentiment`` per class, ``topics`` per topic."""
    also = [("platform", p) for p in platforms]
    weeks = [w.label for w in board.weeks]
    sentiment = {
        c: [ask_href([("class", c), ("week", w), *also]) if board.posts_by_class[c][i] else None
            for i, w in enumerate(weeks)]
        for c in board.sentiment_by_class
    }  # fmt: skip
    topics = {
        t: [ask_href([("topic", t), ("week", w), *also]) if shares[i] else None for i, w in enumerate(weeks)]
        for t, shares in board.topic_share.items()
    }
    return {"sentiment": sentiment, "topics": topics}


def linked_chart(chart: PointChart, links: Mapping[str, Sequence[str | None]],
                 label: Callable[[ChartPoint], str]) -> LinkedChart:  # fmt: skip
    """``chart`` with a link on every point that has one in ``links``."""
    points = []
    for p in chart.points:
        row = links.get(p.series) or ()
        href = row[p.index] if p.index < len(row) else None
        if href is not None:
            points.append(PointLink(href=href, label=label(p), x=round(p.x, 1), y=round(p.y, 1)))
    radius = max(MIN_RADIUS, min(MAX_RADIUS, chart.spacing / 2 - 1))
    src = "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
    return LinkedChart(src=src, width=chart.width, height=chart.height, radius=round(radius, 1), points=tuple(points))


def dashboard_charts(board: Dashboard, platforms: Sequence[str]) -> tuple[dict[str, LinkedChart], dict[str, Links]]:
    """The dashboard's sentiment and topic charts with linked points, and the links of the table cells."""
    links = cell_links(board, platforms)
    weeks = [w.label for w in board.weeks]

    def sentiment_label(p: ChartPoint) -> str:
        n = board.posts_by_class[p.series][p.index]
        return ngettext(
            "{series}, {week}: net {value} ({n} post) – show the posts",
            "{series}, {week}: net {value} ({n} posts) – show the posts",
            n,
        ).format(series=segment_name(p.series), week=weeks[p.index], value=i18n.signed(p.value), n=i18n.number(n))

    def topic_label(p: ChartPoint) -> str:
        return _("{series}, {week}: {value} of the voice – show the posts").format(
            series=p.series, week=weeks[p.index], value=i18n.percent(p.value / 100)
        )

    charts = {
        "sentiment": linked_chart(sentiment_trend_points(board.labels, board.sentiment_by_class),
                                  links["sentiment"], sentiment_label),
        "topics": linked_chart(topic_trend_points(board.labels, board.topic_share), links["topics"], topic_label),
    }  # fmt: skip
    return charts, links


__all__ = ["LinkedChart", "PointLink", "ask_href", "cell_links", "dashboard_charts", "linked_chart"]
