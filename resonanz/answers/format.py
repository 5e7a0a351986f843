"""Presenting an :class:`~resonanz.answers.ask.Answer`: rich tables for the terminal, JSON and CSV for tools."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from resonanz.answers.ask import Answer, SentimentSummary, TopicRow
from resonanz.answers.pareto import ParetoResult
from resonanz.core.csv_safe import csv_writer

SEGMENT_NAMES = {
    "A": "A-customers",
    "B": "B-customers",
    "C": "C-customers",
    "prospect": "Prospects (unlinked)",
    "unvalued": "Linked, not valued",
}
QUOTE_TITLES = {"most_weighted": "Most weighted", "most_negative": "Most negative", "most_positive": "Most positive"}


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def net(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "–"
    return f"{now - before:+.2f}"


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_filter(answer: Answer) -> str:
    f = answer.filter
    parts = [", ".join(SEGMENT_NAMES.get(c, c) for c in f.classes) or "all authors"]
    for label, values in (
        ("RFM", f.rfm_segments),
        ("topic", f.topics),
        ("platform", f.platforms),
        ("language", f.languages),
    ):
        if values:
            parts.append(f"{label} {', '.join(values)}")
    if f.loyal is not None:
        parts.append("loyal" if f.loyal else "not loyal")
    return "; ".join(parts)


def _summary_table(answer: Answer) -> Table:
    cur, prev = answer.current, answer.previous
    table = Table(title=f"{describe_filter(answer)} — {answer.period.label}", title_justify="left")
    table.add_column("")
    table.add_column("value-weighted", justify="right")
    table.add_column("unweighted", justify="right")
    table.add_column("previous period (w / u)", justify="right")
    table.add_column("trend (weighted)", justify="right")
    table.add_row(
        "net sentiment",
        net(cur.net_weighted),
        net(cur.net),
        f"{net(prev.net_weighted)} / {net(prev.net)}",
        delta(cur.net_weighted, prev.net_weighted),
    )
    table.add_row(
        "negative",
        pct(cur.negative_share_weighted),
        pct(cur.negative_share),
        f"{pct(prev.negative_share_weighted)} / {pct(prev.negative_share)}",
        delta(cur.negative_share_weighted, prev.negative_share_weighted),
    )
    table.add_row(
        "positive",
        pct(cur.positive_share_weighted),
        pct(cur.positive_share),
        f"{pct(prev.positive_share_weighted)} / {pct(prev.positive_share)}",
        delta(cur.positive_share_weighted, prev.positive_share_weighted),
    )
    if cur.estimated_shares is not None:
        est_w, est, est_prev = cur.estimated_shares_weighted, cur.estimated_shares, prev.estimated_shares
        table.add_row(
            "negative / positive (EM estimate)",
            f"{pct(est_w[0])} / {pct(est_w[2])}" if est_w else "-",
            f"{pct(est[0])} / {pct(est[2])}",
            f"{pct(est_prev[0])} / {pct(est_prev[2])}" if est_prev else "-",
            "",
        )
    table.add_row("posts", "", str(cur.posts), str(prev.posts), f"{cur.posts - prev.posts:+d}")
    table.add_row(
        "authors / linked customers", "", f"{cur.authors} / {cur.customers}", f"{prev.authors} / {prev.customers}", ""
    )
    return table


ASPECT_NOTE = (
    "negative/positive about the topic: the sentiment of what a post says about that topic (its own clauses), "
    "value-weighted; older scores count the whole post's sentiment"
)


def aspect_line(t: TopicRow, *, weighted: bool = True) -> str:
    """E.g. ``Lieferung: 62% negative (13 posts)``: the share of the topic's posts that are negative about it."""
    share = t.aspect_negative_share_weighted if weighted else t.aspect_negative_share
    return f"{t.topic}: {pct(share)} negative ({t.posts} post{'' if t.posts == 1 else 's'})"


def _topic_table(answer: Answer) -> Table:
    table = Table(
        title="Topics that matter most (by value-weighted share)",
        title_justify="left",
        caption=ASPECT_NOTE,
        caption_justify="left",
    )
    columns = ("topic", "weighted share", "share", "posts", "negative about it", "positive about it", "net (w)")
    for col in (*columns, "net (u)", "weighted share before"):
        table.add_column(col, justify="left" if col == "topic" else "right")
    for t in answer.topics:
        table.add_row(
            t.topic,
            pct(t.weighted_share),
            pct(t.share),
            str(t.posts),
            pct(t.aspect_negative_share_weighted),
            pct(t.aspect_positive_share_weighted),
            net(t.net_weighted),
            net(t.net),
            pct(t.previous_weighted_share),
        )
    return table


def _quote_table(answer: Answer) -> Table:
    table = Table(title="Representative quotes", title_justify="left", show_lines=True)
    table.add_column("", no_wrap=True)
    table.add_column("quote", min_width=40, ratio=3)
    table.add_column("who", ratio=1)
    table.add_column("weight", justify="right")
    table.add_column("link", ratio=1, overflow="fold")
    for q in answer.quotes:
        table.add_row(
            QUOTE_TITLES.get(q.kind, q.kind),
            Text(shorten(q.text)),
            Text(f"{q.author or '?'} ({SEGMENT_NAMES.get(q.segment, q.segment)})"),
            f"{q.weight:g}",
            Text(q.url or f"post {q.post_id}"),
        )
    return table


def pareto_table(pareto: ParetoResult) -> Table:
    table = Table(
        title="Pareto check: share of voice vs. share of revenue",
        title_justify="left",
        caption=pareto.verdict,
        caption_justify="left",
    )
    for col in (
        "class",
        "customers",
        "share of customers",
        "revenue",
        "share of revenue",
        "posts",
        "share of voice",
        "voice / revenue",
    ):
        table.add_column(col, justify="left" if col == "class" else "right")
    for r in pareto.rows:
        ratio = r.listening_ratio
        table.add_row(
            SEGMENT_NAMES.get(r.segment, r.segment),
            str(r.customers),
            pct(r.customer_share),
            f"{r.revenue:,.0f} €",
            pct(r.revenue_share),
            str(r.posts),
            pct(r.voice_share),
            "–" if ratio is None else f"{ratio:.2f}",
        )
    return table


def renderables(answer: Answer) -> RenderableType:
    parts: list[RenderableType] = [_summary_table(answer)]
    if answer.topics:
        parts.append(_topic_table(answer))
    if answer.quotes:
        parts.append(_quote_table(answer))
    if answer.pareto:
        parts.append(pareto_table(answer.pareto))
    if not answer.current.posts:
        parts.append(
            Text("No scored posts match this question in the period. Widen the filter or the period.", style="yellow")
        )
    return Group(*parts)


def to_text(answer: Answer, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderables(answer))
    return console.export_text()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(answer: Answer) -> str:
    return json.dumps(answer.to_dict(), default=_default, ensure_ascii=False, indent=2)


def csv_rows(answer: Answer) -> Iterator[tuple[str, str, str, Any]]:
    """Long format: section, name, metric, value."""
    for name, summary in (("current", answer.current), ("previous", answer.previous)):
        for metric, value in vars(summary).items():
            yield "summary", name, metric, value
    for t in answer.topics:
        for metric, value in vars(t).items():
            if metric != "topic":
                yield "topic", t.topic, metric, value
    for i, q in enumerate(answer.quotes, 1):
        for metric, value in vars(q).items():
            yield "quote", f"{q.kind}:{i}", metric, value.isoformat() if isinstance(value, datetime) else value
    if answer.pareto:
        for r in answer.pareto.rows:
            for metric, value in vars(r).items():
                if metric != "segment":
                    yield "pareto", r.segment, metric, value
            yield "pareto", r.segment, "listening_ratio", r.listening_ratio


def to_csv(answer: Answer) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\n")
    writer.writerow(["section", "name", "metric", "value"])
    for section, name, metric, value in csv_rows(answer):
        writer.writerow([section, name, metric, "" if value is None else value])
    return buf.getvalue()


def headline(summary: SentimentSummary) -> str:
    return (
        f"{summary.posts} posts, net sentiment {net(summary.net_weighted)} value-weighted "
        f"({net(summary.net)} unweighted)"
    )
