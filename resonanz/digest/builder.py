"""Build the weekly digest: collect the numbers, draw the charts, render HTML and archive it as a Digest row."""

from __future__ import annotations

import base64
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from resonanz.answers.ask import Answer, AnswerFilter, TopicRow, ask
from resonanz.answers.competitors import CompetitorReport, weekly_competitors
from resonanz.answers.dashboard import dashboard
from resonanz.answers.emerging import EmergingTopic, emerging_topics
from resonanz.answers.format import aspect_line
from resonanz.core import i18n
from resonanz.core.errors import DigestError
from resonanz.core.i18n import _
from resonanz.core.periods import Period, iso_week, last_complete_week, zone
from resonanz.core.settings import Settings
from resonanz.digest import charts
from resonanz.digest.competitors import digest_rows, share_of_voice_chart
from resonanz.digest.render import render_template
from resonanz.pipeline.sources import known_brands
from resonanz.review.queue import QueuePage, open_items
from store.db import session_scope
from store.models import Digest
from store.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class DigestData:
    period: Period
    overall: Answer
    a_customers: Answer
    negative_topics: list[dict[str, Any]]
    a_topics: list[dict[str, Any]]
    """A-customers' top topics with the share of their posts that are negative/positive about each."""
    emerging: list[EmergingTopic]
    open_items: QueuePage
    trend_labels: list[str]
    images: dict[str, bytes] = field(default_factory=dict)
    competitors: CompetitorReport | None = None
    """The own brand against the tagged competitors over the chart's weeks (None: no source is tagged)."""
    generated_at: datetime = field(default_factory=utcnow)
    tz: str = "Europe/Berlin"

    @property
    def local_range(self) -> str:
        """E.g. 'Mo. 16.11.2026 – So. 22.11.2026' in the business time zone (and the current language)."""
        zone(self.tz)  # an unknown zone is an InvalidFilterError with what to set
        first = i18n.weekday_date(self.period.start, self.tz)
        last = i18n.weekday_date(self.period.end - timedelta(seconds=1), self.tz)
        return f"{first} – {last}"

    def summary(self) -> dict[str, Any]:
        """The digest's numbers as JSON (archived with it; also the plain-text e-mail part)."""
        cur, prev = self.overall.current, self.overall.previous
        a = self.a_customers.current
        pareto = self.overall.pareto
        return {
            "week": self.period.label,
            "posts": cur.posts,
            "posts_previous": prev.posts,
            "authors": cur.authors,
            "net_weighted": cur.net_weighted,
            "net": cur.net,
            "net_weighted_previous": prev.net_weighted,
            "negative_share_weighted": cur.negative_share_weighted,
            "a_posts": a.posts,
            "a_net_weighted": a.net_weighted,
            "a_quotes": [
                {"kind": q.kind, "text": q.text, "url": q.url, "author": q.author, "sentiment": q.sentiment}
                for q in self.a_customers.quotes
            ],
            "negative_topics": self.negative_topics,
            "a_topics": self.a_topics,
            "emerging": [{"label": e.label, "posts": e.posts, "source": e.source} for e in self.emerging],
            "open_items": self.open_items.total,
            "top_open_items": [
                {"id": r.item_id, "severity": r.severity, "segment": r.segment, "text": r.text[:200]}
                for r in self.open_items.rows
            ],
            "pareto": pareto.to_dict() if pareto else None,
            "competitors": digest_rows(self.competitors) if self.competitors else None,
        }


def collect(session: Session, settings: Settings, period: Period) -> DigestData:
    flt = AnswerFilter(period=period, default_weight=settings.value.prospect_weight)
    overall = ask(session, flt, top_topics=100, quote_limit=3)
    a_customers = ask(
        session, AnswerFilter(period=period, classes=["A"], default_weight=flt.default_weight), with_pareto=False
    )
    negative = sorted(
        (t for t in overall.topics if t.aspect_negative_weighted > 0),
        key=lambda t: (-t.aspect_negative_weighted, t.topic),
    )[:5]
    negative_topics = [
        {
            "topic": t.topic,
            "negative_weight": t.aspect_negative_weighted,
            "posts": t.posts,
            "net_weighted": t.net_weighted,
            "weighted_share": t.weighted_share,
            "negative_share_weighted": t.aspect_negative_share_weighted,
            "aspect_net_weighted": t.aspect_net_weighted,
            "line": aspect_line(t),
        }
        for t in negative
    ]
    overall.topics = overall.topics[:10]
    board = dashboard(session, now=period.end - timedelta(seconds=1), weeks=8, tz=settings.digest.timezone, base=flt)
    data = DigestData(
        period=period,
        overall=overall,
        a_customers=a_customers,
        negative_topics=negative_topics,
        a_topics=[_topic_summary(t) for t in a_customers.topics[:5]],
        emerging=emerging_topics(session, flt),
        open_items=open_items(session, limit=10, default_weight=flt.default_weight),
        trend_labels=board.labels,
        tz=settings.digest.timezone,
    )
    data.images["sentiment"] = charts.sentiment_trend_chart(board.labels, board.sentiment_by_class)
    if known_brands(session):
        data.competitors = weekly_competitors(session, flt, end_week=period.label, weeks=8, tz=settings.digest.timezone)
        data.images["competitors"] = share_of_voice_chart(data.competitors)
    if overall.pareto:
        data.images["pareto"] = charts.pareto_chart(overall.pareto)
    data.images["negative_topics"] = charts.bar_chart(
        [(t.topic, t.aspect_negative_weighted) for t in negative],
        title=_("Top negative topics, weighted by customer value"),
        xlabel=_("sum of weights of posts negative about the topic"),
    )
    return data


def _topic_summary(t: TopicRow) -> dict[str, Any]:
    return {
        "topic": t.topic,
        "posts": t.posts,
        "negative_share_weighted": t.aspect_negative_share_weighted,
        "positive_share_weighted": t.aspect_positive_share_weighted,
        "line": aspect_line(t),
    }


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_digest(data: DigestData) -> str:
    """The standalone HTML (charts embedded as base64 data URIs; the mailer turns them into CID parts)."""
    return render_template(
        "digest.html",
        d=data,
        img={name: data_uri(png) for name, png in data.images.items()},
        inf=math.inf,
    )


def build_digest(engine: Engine, settings: Settings, week: str | None = None, *, now: datetime | None = None) -> Digest:
    """Build (or rebuild) the digest of ``week`` (default: the last complete ISO week) and archive it.

    Texts, numbers and charts are in ``settings.language`` (German by default)."""
    with i18n.language(settings.language):
        return _build_digest(engine, settings, week, now=now)


def _build_digest(engine: Engine, settings: Settings, week: str | None, *, now: datetime | None) -> Digest:
    tz = settings.digest.timezone
    period = iso_week(week, tz) if week else last_complete_week(now, tz)
    try:
        with session_scope(engine) as session:
            data = collect(session, settings, period)
            html = render_digest(data)
            digest = session.exec(select(Digest).where(Digest.period_label == period.label)).first()
            if digest is None:
                digest = Digest(period_label=period.label, period_start=period.start, period_end=period.end)
            digest.content_html = html
            digest.summary = _jsonable(data.summary())
            digest.created_at = utcnow()
            if not digest.recipients:
                digest.recipients = list(settings.digest.recipients)
            session.add(digest)
            session.flush()
            session.refresh(digest)
    except DigestError:
        raise
    except Exception as exc:
        raise DigestError(
            _("could not build the digest for {week}: {error}").format(week=period.label, error=exc)
        ) from exc
    log.info("digest %s built (%d posts, %d bytes)", period.label, data.overall.current.posts, len(html))
    return digest


def write_digest(digest: Digest, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(digest.content_html, encoding="utf-8")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
