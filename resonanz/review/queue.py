"""The review queue: flagged posts ordered by priority (severity x author value), filtered and paged in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Float, Integer, and_, bindparam, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from resonanz.answers.sql import brand_clause, has_topic, latest_score_id
from resonanz.core.tables import CUSTOMER, IDENTITY, ITEM, POST, SCORE
from resonanz.pipeline.brand import BRAND
from resonanz.pipeline.consent import linkable_clause
from resonanz.review.standing import refresh_standing
from resonanz.review.statuses import ACTIVE_STATUSES
from store.types import UTCDateTime, utcnow

UNASSIGNED = "-"
PROSPECT = "prospect"


@dataclass(frozen=True)
class QueueFilter:
    statuses: Sequence[str] = ACTIVE_STATUSES
    min_severity: int | None = None
    classes: Sequence[str] = ()
    platforms: Sequence[str] = ()
    topics: Sequence[str] = ()
    assignee: str | None = None
    """A user name, or ``UNASSIGNED`` for items nobody has taken."""
    default_weight: float = 0.5
    model_name: str | None = None
    now: datetime | None = None
    """The reference time for recency (default: now)."""


RECENCY = ((timedelta(days=1), 1.0), (timedelta(days=3), 0.8), (timedelta(days=7), 0.6), (timedelta(days=30), 0.4))
"""How much a post's age discounts its priority: under a day 1.0, under 3 days 0.8, under a week 0.6,
under 30 days 0.4, older 0.25. Steps rather than a curve so that the SQL is the same on SQLite and
PostgreSQL and a community manager can reason about it ("yesterday's churn from an A customer beats
last month's")."""
RECENCY_OLDER = 0.25


def recency_factor(created_at: Any) -> ColumnElement[float]:
    """:data:`RECENCY` as a SQL expression on ``created_at``; the age limits are bound by :func:`recency_params`."""
    limits = [(created_at >= bindparam(f"recency_{i}", type_=UTCDateTime), f) for i, (_, f) in enumerate(RECENCY)]
    return case(*limits, else_=RECENCY_OLDER)


def recency_params(now: datetime) -> dict[str, datetime]:
    """The values of :func:`recency_factor`'s age limits, seen from ``now``."""
    return {f"recency_{i}": now - age for i, (age, _) in enumerate(RECENCY)}


@dataclass
class QueueRow:
    item_id: int
    post_id: int
    severity: int
    status: str
    assignee: str | None
    priority: float
    reasons: list[dict[str, Any]]
    text: str
    url: str | None
    platform: str
    created_at: datetime
    author: str | None
    segment: str
    customer_id: int | None
    customer_name: str | None
    weight: float
    sentiment: str | None
    topics: list[str] = field(default_factory=list)


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _base(qf: QueueFilter, dialect: str, counting: bool = False) -> tuple[Any, dict[str, ColumnElement[Any]]]:
    """Item ids passing the filter, with what ordering needs: one table, the author's standing kept on each item
    (:mod:`resonanz.review.standing`); the post only for a platform or topic filter.

    Active items need no filter for brand posts and competitors' posts: their items are closed when the rules are
    applied (:func:`resonanz.pipeline.brand.apply_brand_voice`,
    :func:`resonanz.review.competitors.close_competitor_items`, both run before every scoring pass and whenever a
    marker or a source's tag changes); a view of closed items filters them out.
    ``counting``: the count query (no ordering columns needed).
    """
    weight = cast(func.coalesce(ITEM.c.author_weight, qf.default_weight), Float)
    recency = recency_factor(func.coalesce(ITEM.c.posted_at, ITEM.c.created_at))
    # the queue's order: severity x the author's customer value x recency (a manual priority wins)
    priority = case((ITEM.c.priority > 0, ITEM.c.priority), else_=ITEM.c.severity * weight * recency)
    segment = func.coalesce(ITEM.c.segment, literal(PROSPECT))
    query = select(ITEM.c.id).select_from(ITEM)
    closed = not qf.statuses or not set(qf.statuses) <= set(ACTIVE_STATUSES)
    if qf.platforms or qf.topics or closed:
        query = query.join(POST, POST.c.id == ITEM.c.post_id)
    if closed:  # closed items include those of brand and competitors' posts: never shown
        query = query.where(or_(POST.c.voice.is_(None), POST.c.voice != BRAND)).where(brand_clause(None))
    if qf.statuses:
        query = query.where(ITEM.c.status.in_(list(qf.statuses)))
    if qf.min_severity is not None:
        query = query.where(ITEM.c.severity >= qf.min_severity)
    if qf.classes:
        query = query.where(segment.in_(list(qf.classes)))
    if qf.platforms:
        query = query.where(POST.c.platform.in_(list(qf.platforms)))
    if qf.assignee == UNASSIGNED:
        query = query.where(or_(ITEM.c.assignee.is_(None), ITEM.c.assignee == ""))
    elif qf.assignee:
        query = query.where(ITEM.c.assignee == qf.assignee)
    if qf.topics:
        query = query.join(SCORE, SCORE.c.id == latest_score_id(qf.model_name)).where(has_topic(dialect, qf.topics))
    cols = {"segment": segment, "weight": weight, "priority": priority, "customer_id": ITEM.c.customer_id,
            "revenue": func.coalesce(ITEM.c.author_revenue, 0.0)}  # fmt: skip
    return query, cols


@dataclass(frozen=True)
class _Shape:
    """What a queue statement is built from: the filter without the clock (hashable, the cache key)."""

    statuses: tuple[str, ...]
    min_severity: int | None
    classes: tuple[str, ...]
    platforms: tuple[str, ...]
    topics: tuple[str, ...]
    assignee: str | None
    default_weight: float
    model_name: str | None

    @classmethod
    def of(cls, qf: QueueFilter) -> _Shape:
        return cls(tuple(qf.statuses), qf.min_severity, tuple(qf.classes), tuple(qf.platforms), tuple(qf.topics),
                   qf.assignee, qf.default_weight, qf.model_name)  # fmt: skip


@lru_cache(maxsize=256)
def _statements(shape: _Shape, dialect: str) -> tuple[Any, Any]:
    """The count and the page statement for one filter shape, built once and reused.

    Building these SQLAlchemy statements (subqueries, window functions, column proxies) cost more CPU
    than running them on SQLite (measured on the demo: 3.3 of 5.8 ms per queue page), so they are cached
    per filter shape; the clock (recency limits) and the page (offset, limit) are bound parameters.
    """
    qf = QueueFilter(statuses=shape.statuses, min_severity=shape.min_severity, classes=shape.classes,
                     platforms=shape.platforms, topics=shape.topics, assignee=shape.assignee,
                     default_weight=shape.default_weight, model_name=shape.model_name)  # fmt: skip
    counter, _ = _base(qf, dialect, counting=True)
    count_q = select(func.count()).select_from(counter.subquery())
    query, cols = _base(qf, dialect)
    ordered = (
        query.add_columns(
            cols["segment"].label("segment"),
            cols["customer_id"].label("customer_id"),
            cols["weight"].label("weight"),
            cols["priority"].label("eff_priority"),
            cols["revenue"].label("revenue"),
        )
        # equal priority: the more severe item, then the customer with more revenue (the #1 customer's
        # churn before another A-customer's), then the older item
        .order_by(cols["priority"].desc(), ITEM.c.severity.desc(), cols["revenue"].desc(), ITEM.c.created_at, ITEM.c.id)
        .offset(bindparam("page_offset", type_=Integer))
        .limit(bindparam("page_limit", type_=Integer))
        .subquery("page")
    )
    rows_q = (
        select(
            ordered,
            ITEM.c.severity,
            ITEM.c.status,
            ITEM.c.assignee,
            ITEM.c.reasons,
            ITEM.c.post_id,
            POST.c.text,
            POST.c.url,
            POST.c.platform,
            POST.c.created_at,
            func.coalesce(IDENTITY.c.handle, IDENTITY.c.display_name).label("author"),
            CUSTOMER.c.id.label("shown_customer_id"),
            CUSTOMER.c.first_name,
            CUSTOMER.c.last_name,
            CUSTOMER.c.company,
            SCORE.c.sentiment,
            SCORE.c.topics,
        )
        .select_from(ordered)
        .join(ITEM, ITEM.c.id == ordered.c.id)
        .join(POST, POST.c.id == ITEM.c.post_id)
        .outerjoin(SCORE, SCORE.c.id == latest_score_id(qf.model_name))
        .outerjoin(IDENTITY, IDENTITY.c.id == POST.c.identity_id)
        # the customer only while the link may be shown (consent withdrawn since the last re-weighting: a prospect)
        .outerjoin(CUSTOMER, and_(CUSTOMER.c.id == ordered.c.customer_id, linkable_clause()))
    )
    return count_q, rows_q


def list_queue(session: Session, qf: QueueFilter, page: int = 1, per_page: int = 25) -> QueuePage:
    """One page of the queue, highest priority first (a complaint from an A-customer before a C-customer's).

    The filter and the order are computed over the ids only; texts, scores and names are looked up
    for the rows of the page.
    """
    dialect = session.get_bind().dialect.name
    # items without a standing (opened outside a scoring run, an upgraded database): in this transaction; the
    # scoring runs and the web app's start write it for good
    refresh_standing(session, missing_only=True)
    count_q, rows_q = _statements(_Shape.of(qf), dialect)
    clock = recency_params(qf.now or utcnow())
    total = int(session.execute(count_q, clock).one()[0])
    page = max(1, min(page, max(1, -(-total // per_page))))
    params = {**clock, "page_offset": (page - 1) * per_page, "page_limit": per_page}
    found = [r._mapping for r in session.execute(rows_q, params).all()]
    found.sort(
        key=lambda m: (
            -float(m["eff_priority"] or 0.0),
            -m["severity"],
            -float(m["revenue"] or 0.0),
            m["created_at"],
            m["id"],
        )  # fmt: skip
    )
    out = [
        QueueRow(
            item_id=m["id"],
            post_id=m["post_id"],
            severity=m["severity"],
            status=m["status"],
            assignee=m["assignee"],
            priority=float(m["eff_priority"] or 0.0),
            reasons=list(m["reasons"] or []),
            text=m["text"] or "",
            url=m["url"],
            platform=m["platform"],
            created_at=m["created_at"],
            author=m["author"],
            segment=str(m["segment"]) if m["shown_customer_id"] is not None or m["customer_id"] is None else PROSPECT,
            customer_id=m["shown_customer_id"],
            customer_name=customer_name(m["first_name"], m["last_name"], m["company"]),
            weight=float(m["weight"]),
            sentiment=m["sentiment"],
            topics=[str(t.get("topic")) for t in (m["topics"] or []) if isinstance(t, dict)],
        )
        for m in found
    ]
    return QueuePage(out, total, page, per_page)


def customer_name(first: str | None, last: str | None, company: str | None) -> str | None:
    name = " ".join(p for p in (first, last) if p)
    if company:
        name = f"{name} ({company})" if name else company
    return name or None


def queue_facets(session: Session) -> dict[str, list[str]]:
    """Values offered in the filter form: platforms and assignees that occur in the queue."""
    platforms = session.exec(  # type: ignore[call-overload]
        select(POST.c.platform).join(ITEM, ITEM.c.post_id == POST.c.id).distinct().order_by(POST.c.platform)
    ).all()
    assignees = session.exec(  # type: ignore[call-overload]
        select(ITEM.c.assignee).where(ITEM.c.assignee.is_not(None)).distinct().order_by(ITEM.c.assignee)
    ).all()
    return {"platforms": [p[0] for p in platforms], "assignees": [a[0] for a in assignees if a[0]]}


def open_items(session: Session, limit: int = 10, default_weight: float = 0.5) -> QueuePage:
    """The open and in-progress items with the highest priority (for the digest)."""
    return list_queue(session, QueueFilter(default_weight=default_weight), page=1, per_page=limit)
