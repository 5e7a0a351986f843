"""The competitor comparison for the digest and the web pages: its two charts and the digest's summary rows."""

from __future__ import annotations

from typing import Any

from resonanz.answers.competitors import CompetitorReport
from resonanz.core.i18n import _
from resonanz.digest.charts import trend_chart

OWN_COLOUR = "#1565c0"
PALETTE = ("#ef6c00", "#8e24aa", "#2e7d32", "#c62828", "#00838f", "#6d4c41", "#9e9d24")
"""Competitors' colours in the order of the report (own brand blue, as class A in the other charts)."""


def brand_colours(report: CompetitorReport) -> dict[str, str]:
    colours = {}
    others = iter(PALETTE * (1 + len(report.brands) // len(PALETTE)))
    for b in report.brands:
        colours[b.label] = OWN_COLOUR if b.own else next(others)
    return colours


def share_of_voice_chart(report: CompetitorReport) -> bytes:
    """Value-weighted share of voice per brand and week, in %."""
    series = {k: [None if v is None else v * 100 for v in vs] for k, vs in report.share_series().items()}
    return trend_chart(
        _short(report.labels),
        series,
        title=_("Share of voice per brand (value-weighted)"),
        ylabel=_("share, %"),
        colours=brand_colours(report),
        ylim=(0, 105),
    )


def brand_sentiment_chart(report: CompetitorReport) -> bytes:
    """Value-weighted net sentiment per brand and week."""
    return trend_chart(
        _short(report.labels),
        report.net_series(),
        title=_("Net sentiment per brand (value-weighted)"),
        ylabel=_("net sentiment"),
        colours=brand_colours(report),
        ylim=(-1.05, 1.05),
    )


def _short(labels: list[str]) -> list[str]:
    """``2026-W47`` -> ``W47`` (as the dashboard's charts)."""
    return [label.split("-")[-1] for label in labels]


def digest_rows(report: CompetitorReport) -> list[dict[str, Any]]:
    """Per brand: the digest week's (last week's) numbers, the change of its weighted share, and n."""
    rows = []
    for b in report.brands:
        week = b.weeks[-1]
        rows.append(
            {
                "brand": b.brand,
                "label": b.label,
                "own": b.own,
                "posts": week.posts,
                "share": week.share,
                "share_weighted": week.share_weighted,
                "share_change_weighted": b.share_change_weighted,
                "net_weighted": week.net_weighted,
                "negative_share_weighted": week.negative_share_weighted,
            }
        )
    return rows
