"""Presenting an :class:`~resonanz.answers.ask.Answer`: rich tables for the terminal, JSON and CSV for tools."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from resonanz.answers.ask import Answer, SentimentSummary, TopicRow
from resonanz.answers.pareto import ParetoResult
from resonanz.answers.posts import PostPage
from resonanz.core import i18n
from resonanz.core.csv_safe import csv_writer
from resonanz.core.i18n import N_, _

SEGMENT_NAMES = {
    "A": N_("A-customers"),
    "B": N_("B-customers"),
    "C": N_("C-customers"),
    "prospect": N_("Prospects (not linked)"),
    "unvalued": N_("Linked, not valued"),
}
"""English msgids; shown through :func:`segment_name` (translated)."""
QUOTE_TITLES = {
    "most_weighted": N_("Most weighted"),
    "most_negative": N_("Most negative"),
    "most_positive": N_("Most positive"),
}


def segment_name(segment: str | None) -> str:
    """``A`` -> 'A-Kunden' (in the current language); unknown codes as they are."""
    code = segment or "prospect"
    return _(SEGMENT_NAMES[code]) if code in SEGMENT_NAMES else code


def quote_title(kind: str) -> str:
    return _(QUOTE_TITLES[kind]) if kind in QUOTE_TITLES else kind


SEGMENT_SHORT = {"prospect": N_("prospect"), "unvalued": N_("not valued")}
"""Short class labels of the queue and forms; A, B and C stay as they are."""
STATUS_LABELS = {
    "open": N_("open"),
    "in_progress": N_("in progress"),
    "answered": N_("answered"),
    "merged": N_("merged"),
    "resolved": N_("resolved"),
    "dismissed": N_("dismissed"),
}
"""Review statuses (resonanz/review/statuses.py) as people read them."""
SENTIMENT_LABELS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")}
FLAG_LABELS = {
    "churn": N_("churn"),
    "complaint": N_("complaint"),
    "offensive": N_("offensive"),
    "spam": N_("spam"),
    "question": N_("question"),
    "legal": N_("legal"),
    "safety": N_("safety"),
    "data_breach": N_("data breach"),
    "abusive_words": N_("abusive words"),
    "strongly_negative": N_("strongly negative"),
    "flag": N_("flag"),
}
"""Triage flags (nlp/flag_model.py, nlp/flags_default.toml) as people read them."""
ROLE_LABELS = {"community_manager": N_("community manager"), "analyst": N_("analyst"), "admin": N_("admin")}
LINK_STATUS_LABELS = {
    "pending": N_("pending"),
    "confirmed": N_("confirmed"),
    "rejected": N_("rejected"),
    "auto": N_("linked automatically"),
}
REVIEW_EVENT_LABELS = {
    "assign": N_("assigned"),
    "status": N_("set the status"),
    "note": N_("added a note"),
    "correct_sentiment": N_("corrected the sentiment"),
    "correct_topic": N_("corrected a topic"),
    "correct_flag": N_("corrected a flag"),
    "link_confirmed": N_("confirmed a link"),
    "link_rejected": N_("rejected a link"),
    "merged": N_("merged"),
    "flagged": N_("flagged"),
    "reflagged": N_("flagged again"),
}
"""The audit trail of a queue item (resonanz/review/actions.py, pipeline/duplicates.py, pipeline/brand.py)."""


def _label(table: dict[str, str], value: str | None) -> str:
    """A code in words (translated); codes the table does not know are shown as they are."""
    if value is None:
        return i18n.MISSING
    return _(table[value]) if value in table else value.replace("_", " ")


def segment_short(segment: str | None) -> str:
    return _label(SEGMENT_SHORT, segment or "prospect")


def status_label(status: str | None) -> str:
    return _label(STATUS_LABELS, status)


def sentiment_label(sentiment: str | None) -> str:
    return _label(SENTIMENT_LABELS, sentiment)


def flag_label(flag: str | None) -> str:
    return _label(FLAG_LABELS, flag)


def role_label(role: str | None) -> str:
    return _label(ROLE_LABELS, role)


def link_status_label(status: str | None) -> str:
    return _label(LINK_STATUS_LABELS, status)


def review_event(action: str | None) -> str:
    if action and action.startswith("status_"):  # the brand's reply set it (pipeline/brand.py)
        return _("status set to {status}").format(status=status_label(action.removeprefix("status_")))
    return _label(REVIEW_EVENT_LABELS, action)


def local(value: datetime | str | None, with_zone: bool = True) -> str:
    """A stored time in Europe/Berlin with its zone, e.g. ``24.11.2026, 09:15 MEZ``; ISO strings too."""
    if isinstance(value, str):
        try:
            return i18n.datetime(datetime.fromisoformat(value), with_zone=with_zone)
        except ValueError:
            return value
    return i18n.datetime(value, with_zone=with_zone)


def pct(value: float | None) -> str:
    """A share for people: ``42 %`` (German) / ``42%`` (English); machine formats keep the float."""
    return i18n.percent(value)


def band(values: Sequence[float] | None, kind: str = "share") -> str:
    """A 95 % band for people: ``15–96 %`` (a share) / ``-0,92 … +0,70`` (``kind="net"``); ``–`` without one."""
    if not values or len(values) != 2:
        return i18n.MISSING
    low, high = values
    if kind == "net":
        return f"{i18n.signed(low, 2)} … {i18n.signed(high, 2)}"
    return f"{i18n.number(low * 100)}–{i18n.percent(high)}"


def n_eff(value: float | None) -> str:
    """An effective sample size: one decimal (``1,8``)."""
    return i18n.number(value, 1)


WEIGHT_MODE_LABELS = {
    "revenue_share": N_("revenue share"),
    "clv": N_("CLV share"),
    "abc": N_("ABC class weights"),
}
"""``value.weight_mode`` (resonanz/pipeline/weighting.py) as people read it."""


def weight_mode_label(mode: str | None) -> str:
    return _label(WEIGHT_MODE_LABELS, mode)


def net(value: float | None) -> str:
    """A net sentiment for people: ``+0,12`` (German) / ``+0.12`` (English)."""
    return i18n.signed(value, 2)


def delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return i18n.MISSING
    return i18n.signed(now - before, 2)


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_filter(answer: Answer) -> str:
    f = answer.filter
    parts = [", ".join(segment_name(c) for c in f.classes) or _("all authors")]
    for label, values in (
        (_("RFM"), f.rfm_segments),
        (_("topic"), f.topics),
        (_("platform"), f.platforms),
        (_("language"), f.languages),
    ):
        if values:
            parts.append(f"{label} {', '.join(values)}")
    if f.loyal is not None:
        parts.append(_("loyal") if f.loyal else _("not loyal"))
    return "; ".join(parts)


def voices_text(n: int) -> str:
    return i18n.ngettext("{n} voice", "{n} voices", n).format(n=i18n.number(n))


def _summary_table(answer: Answer) -> Table:
    cur, prev = answer.current, answer.previous
    table = Table(
        title=f"{describe_filter(answer)} — {answer.period.label}",
        title_justify="left",
        caption=_(BAND_NOTE),
        caption_justify="left",
    )
    table.add_column("")
    table.add_column(_("value-weighted"), justify="right")
    table.add_column(_("95 % band (w)"), justify="right")
    table.add_column(_("unweighted"), justify="right")
    table.add_column(_("previous period (w / u)"), justify="right")
    table.add_column(_("trend (weighted)"), justify="right")
    table.add_row(
        _("net sentiment"),
        net(cur.net_weighted),
        band(cur.net_weighted_band, "net"),
        net(cur.net),
        f"{net(prev.net_weighted)} / {net(prev.net)}",
        delta(cur.net_weighted, prev.net_weighted),
    )
    table.add_row(
        _("negative"),
        pct(cur.negative_share_weighted),
        band(cur.negative_share_weighted_band),
        pct(cur.negative_share),
        f"{pct(prev.negative_share_weighted)} / {pct(prev.negative_share)}",
        delta(cur.negative_share_weighted, prev.negative_share_weighted),
    )
    table.add_row(
        _("positive"),
        pct(cur.positive_share_weighted),
        band(cur.positive_share_weighted_band),
        pct(cur.positive_share),
        f"{pct(prev.positive_share_weighted)} / {pct(prev.positive_share)}",
        delta(cur.positive_share_weighted, prev.positive_share_weighted),
    )
    if cur.estimated_shares is not None:
        est_w, est, est_prev = cur.estimated_shares_weighted, cur.estimated_shares, prev.estimated_shares
        table.add_row(
            _("negative / positive (EM estimate)"),
            f"{pct(est_w[0])} / {pct(est_w[2])}" if est_w else "-",
            "",
            f"{pct(est[0])} / {pct(est[2])}",
            f"{pct(est_prev[0])} / {pct(est_prev[2])}" if est_prev else "-",
            "",
        )
    table.add_row(
        _("posts"), "", "", i18n.number(cur.posts), i18n.number(prev.posts), i18n.signed(cur.posts - prev.posts, 0)
    )
    table.add_row(
        _("effective n (voices)"),
        f"{n_eff(cur.n_eff)} ({voices_text(cur.voices)})",
        "",
        "",
        f"{n_eff(prev.n_eff)} / {i18n.number(prev.voices)}",
        "",
    )
    table.add_row(
        _("authors / linked customers"),
        "",
        "",
        f"{i18n.number(cur.authors)} / {i18n.number(cur.customers)}",
        f"{i18n.number(prev.authors)} / {i18n.number(prev.customers)}",
        "",
    )
    return table


BAND_NOTE = N_(
    "95 % band: Wilson interval with the effective n (Kish; each customer or account's posts count as one voice); "
    "effective n: how many equally weighted voices the weighted figures rest on"
)


ASPECT_NOTE = N_(
    "negative/positive about the topic: the sentiment of what a post says about that topic (its own clauses), "
    "value-weighted; older scores count the whole post's sentiment"
)


def aspect_line(t: TopicRow, *, weighted: bool = True) -> str:
    """E.g. ``Lieferung: 62 % negativ (13 Beiträge)``: the share of the topic's posts that are negative about it."""
    share = t.aspect_negative_share_weighted if weighted else t.aspect_negative_share
    posts = i18n.ngettext("{n} post", "{n} posts", t.posts).format(n=i18n.number(t.posts))
    return _("{topic}: {share} negative ({posts})").format(topic=t.topic, share=pct(share), posts=posts)


def _with_band(value: str, values: Sequence[float] | None, kind: str = "share") -> Text:
    """A figure with its 95 % band on a second, dim line."""
    text = Text(value)
    if values:
        text.append("\n" + band(values, kind), style="dim")
    return text


def _topic_table(answer: Answer) -> Table:
    table = Table(
        title=_("Topics that matter most (by value-weighted share)"),
        title_justify="left",
        caption=_(ASPECT_NOTE) + "; " + _("second line: 95 % band"),
        caption_justify="left",
    )
    columns = (
        _("topic"),
        _("weighted share"),
        _("share"),
        _("posts"),
        _("effective n"),
        _("negative about it"),
        _("positive about it"),
        _("net (w)"),
        _("net (u)"),
        _("weighted share before"),
    )
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for t in answer.topics:
        table.add_row(
            t.topic,
            _with_band(pct(t.weighted_share), t.weighted_share_band),
            pct(t.share),
            i18n.number(t.posts),
            n_eff(t.n_eff),
            _with_band(pct(t.aspect_negative_share_weighted), t.aspect_negative_share_weighted_band),
            _with_band(pct(t.aspect_positive_share_weighted), t.aspect_positive_share_weighted_band),
            _with_band(net(t.net_weighted), t.net_weighted_band, "net"),
            net(t.net),
            pct(t.previous_weighted_share),
        )
    return table


def _quote_table(answer: Answer) -> Table:
    table = Table(title=_("Representative quotes"), title_justify="left", show_lines=True)
    table.add_column("", no_wrap=True)
    table.add_column(_("quote"), min_width=40, ratio=3)
    table.add_column(_("who"), ratio=1)
    table.add_column(_("weight"), justify="right")
    table.add_column(_("link"), ratio=1, overflow="fold")
    for q in answer.quotes:
        table.add_row(
            quote_title(q.kind),
            Text(shorten(q.text)),
            Text(f"{q.author or '?'} ({segment_name(q.segment)})"),
            i18n.compact(q.weight),
            Text(q.url or _("post {id}").format(id=q.post_id)),
        )
    return table


def pareto_table(pareto: ParetoResult) -> Table:
    table = Table(
        title=_("Pareto check: share of voice vs. share of revenue"),
        title_justify="left",
        caption=pareto.verdict,
        caption_justify="left",
    )
    columns = (
        _("class"),
        _("customers"),
        _("share of customers"),
        _("revenue"),
        _("share of revenue"),
        _("posts"),
        _("share of voice"),
        _("voice / revenue"),
    )
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for r in pareto.rows:
        table.add_row(
            segment_name(r.segment),
            i18n.number(r.customers),
            pct(r.customer_share),
            i18n.currency(r.revenue),
            pct(r.revenue_share),
            i18n.number(r.posts),
            pct(r.voice_share),
            i18n.number(r.listening_ratio, 2),
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
        empty = _("No scored posts match this question in the period. Widen the filter or the period.")
        parts.append(Text(empty, style="yellow"))
    return Group(*parts)


def to_text(answer: Answer, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderables(answer))
    return console.export_text()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(answer: Answer, posts: PostPage | None = None) -> str:
    """The answer as JSON; with ``posts`` also the posts behind it (``"posts"``: that page and the total)."""
    data = answer.to_dict()
    if posts is not None:
        data["posts"] = posts.to_dict()
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2)


def _metrics(metric: str, value: Any) -> Iterator[tuple[str, Any]]:
    """A 95 % band ``[low, high]`` as two metrics (``..._band_low``, ``..._band_high``); the rest as it is."""
    if metric.endswith("_band"):
        low, high = value if isinstance(value, list | tuple) and len(value) == 2 else (None, None)
        yield f"{metric}_low", low
        yield f"{metric}_high", high
    else:
        yield metric, value


def csv_rows(answer: Answer) -> Iterator[tuple[str, str, str, Any]]:
    """Long format: section, name, metric, value."""
    for name, summary in (("current", answer.current), ("previous", answer.previous)):
        for key, raw in vars(summary).items():
            for metric, value in _metrics(key, raw):
                yield "summary", name, metric, value
    for t in answer.topics:
        for key, raw in vars(t).items():
            if key != "topic":
                for metric, value in _metrics(key, raw):
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


def numbers_sheet(answer: Answer) -> list[list[Any]]:
    """The rows of :func:`to_csv` (with the header) for a spreadsheet: lists written as text."""

    def cell(value: Any) -> Any:
        return value if value is None or isinstance(value, int | float | str) else str(value)

    return [["section", "name", "metric", "value"], *([s, n, m, cell(v)] for s, n, m, v in csv_rows(answer))]


def to_csv(answer: Answer) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\n")
    writer.writerow(["section", "name", "metric", "value"])
    for section, name, metric, value in csv_rows(answer):
        writer.writerow([section, name, metric, "" if value is None else value])
    return buf.getvalue()


def headline(summary: SentimentSummary) -> str:
    return _("{posts} posts, net sentiment {net} value-weighted ({net_u} unweighted)").format(
        posts=i18n.number(summary.posts), net=net(summary.net_weighted), net_u=net(summary.net)
    )


def posts_table(page: PostPage) -> Table:
    """The posts behind the answer, heaviest first: one page of them, with the total in the title."""
    first = page.offset + 1 if page.posts else 0
    title = _("Posts behind the numbers: {first}–{last} of {total}, heaviest first").format(
        first=i18n.number(first), last=i18n.number(page.offset + len(page.posts)), total=i18n.number(page.total)
    )
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column(_("weight"), justify="right")
    table.add_column(_("who, when"), ratio=1)
    table.add_column(_("post"), min_width=30, ratio=3, overflow="fold")
    table.add_column(_("sentiment, aspects, flags"), ratio=1)
    for p in page.posts:
        whom = f"{p.customer} ({segment_short(p.segment)})" if p.customer else segment_name(p.segment)
        post = Text(shorten(p.text, 240))
        post.append("\n" + (p.url or _("post {id}").format(id=p.post_id)), style="dim")
        labels = [sentiment_label(p.sentiment)]
        if p.aspects:
            labels.append(", ".join(f"{t}: {sentiment_label(pol)}" if pol else t for t, pol in p.aspects))
        if p.flags:
            labels.append(", ".join(flag_label(f) for f in p.flags))
        table.add_row(
            i18n.compact(p.weight),
            Text(f"{p.author or '?'}\n{whom}\n{local(p.created_at)}"),
            post,
            Text("\n".join(labels)),
        )
    return table


def posts_hint(page: PostPage) -> str | None:
    """How to see the next page (None on the last one)."""
    if page.limit is None or page.offset + len(page.posts) >= page.total:
        return None
    return _("More posts: --page {page} (or --format csv/xlsx --posts for all of them).").format(page=page.page + 1)


TEMPLATE_FILTERS: dict[str, Callable[..., str]] = {
    "pct": i18n.percent,
    "net": i18n.signed,
    "num": i18n.number,
    "compact": i18n.compact,
    "eur": i18n.currency,
    "local": local,
    "day": i18n.date,
    "shorten": shorten,
    "segment": segment_name,
    "segment_short": segment_short,
    "status": status_label,
    "sentiment": sentiment_label,
    "flag": flag_label,
    "role": role_label,
    "link_status": link_status_label,
    "review_event": review_event,
    "quote_title": quote_title,
    "band": band,
    "neff": n_eff,
    "weight_mode": weight_mode_label,
}
"""Jinja filters for numbers, shares, times and codes shown to people (web pages and the digest), in the
current language. Machine formats (CSV, JSON) keep the raw values."""
