"""The review queue: flagged posts ordered by priority (severity x author value), filtered and paged in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from resonanz.answer_sql import has_topic, latest_score_id, link_subquery, segment_expr, value_subquery
from store.models import Customer, Post, ReviewItem, Score, SocialIdentity

STATUSES = ("open", "in_progress", "resolved", "dismissed")
ACTIVE_STATUSES = ("open", "in_progress")
UNASSIGNED = "-"


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


def _base(qf: QueueFilter, dialect: str) -> tuple[Any, dict[str, ColumnElement[Any]]]:
    lnk, val = link_subquery(), value_subquery()
    segment = segment_expr(lnk, val)
    weight = cast(func.coalesce(val.c.weight, qf.default_weight), Float)
    priority = case((ReviewItem.priority > 0, ReviewItem.priority), else_=ReviewItem.severity * weight)
    query = (
        select(ReviewItem.id)
        .select_from(ReviewItem)
        .join(Post, Post.id == ReviewItem.post_id)
        .outerjoin(Score, Score.id == latest_score_id(qf.model_name))
        .outerjoin(lnk, lnk.c.identity_id == Post.identity_id)
        .outerjoin(val, val.c.customer_id == lnk.c.customer_id)
    )
    if qf.statuses:
        query = query.where(ReviewItem.status.in_(list(qf.statuses)))
    if qf.min_severity is not None:
        query = query.where(ReviewItem.severity >= qf.min_severity)
    if qf.classes:
        query = query.where(segment.in_(list(qf.classes)))
    if qf.platforms:
        query = query.where(Post.platform.in_(list(qf.platforms)))
    if qf.assignee == UNASSIGNED:
        query = query.where(or_(ReviewItem.assignee.is_(None), ReviewItem.assignee == ""))
    elif qf.assignee:
        query = query.where(ReviewItem.assignee == qf.assignee)
    if qf.topics:
        query = query.where(has_topic(dialect, qf.topics))
    cols = {"segment": segment, "weight": weight, "priority": priority, "customer_id": lnk.c.customer_id}
    return query, cols


def list_queue(session: Session, qf: QueueFilter, page: int = 1, per_page: int = 25) -> QueuePage:
    """One page of the queue, highest priority first (a complaint from an A-customer before a C-customer's)."""
    dialect = session.get_bind().dialect.name
    query, cols = _base(qf, dialect)
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one()[0])  # type: ignore[call-overload]
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows_q = (
        query.add_columns(
            ReviewItem.severity,
            ReviewItem.status,
            ReviewItem.assignee,
            ReviewItem.reasons,
            ReviewItem.post_id,
            Post.text,
            Post.url,
            Post.platform,
            Post.created_at,
            func.coalesce(SocialIdentity.handle, SocialIdentity.display_name).label("author"),
            cols["segment"].label("segment"),
            cols["customer_id"].label("customer_id"),
            Customer.first_name,
            Customer.last_name,
            Customer.company,
            cols["weight"].label("weight"),
            cols["priority"].label("eff_priority"),
            Score.sentiment,
            Score.topics,
        )
        .outerjoin(SocialIdentity, SocialIdentity.id == Post.identity_id)
        .outerjoin(Customer, Customer.id == cols["customer_id"])
        .order_by(cols["priority"].desc(), ReviewItem.severity.desc(), ReviewItem.created_at, ReviewItem.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    out: list[QueueRow] = []
    for r in session.exec(rows_q).all():  # type: ignore[call-overload]
        m = r._mapping
        out.append(
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
                segment=str(m["segment"]),
                customer_id=m["customer_id"],
                customer_name=customer_name(m["first_name"], m["last_name"], m["company"]),
                weight=float(m["weight"]),
                sentiment=m["sentiment"],
                topics=[str(t.get("topic")) for t in (m["topics"] or []) if isinstance(t, dict)],
            )
        )
    return QueuePage(out, total, page, per_page)


def customer_name(first: str | None, last: str | None, company: str | None) -> str | None:
    name = " ".join(p for p in (first, last) if p)
    if company:
        name = f"{name} ({company})" if name else company
    return name or None


def queue_facets(session: Session) -> dict[str, list[str]]:
    """Values offered in the filter form: platforms and assignees that occur in the queue."""
    platforms = session.exec(  # type: ignore[call-overload]
        select(Post.platform).join(ReviewItem, ReviewItem.post_id == Post.id).distinct().order_by(Post.platform)
    ).all()
    assignees = session.exec(  # type: ignore[call-overload]
        select(ReviewItem.assignee).where(ReviewItem.assignee.is_not(None)).distinct().order_by(ReviewItem.assignee)
    ).all()
    return {"platforms": [p[0] for p in platforms], "assignees": [a[0] for a in assignees if a[0]]}


def open_items(session: Session, limit: int = 10, default_weight: float = 0.5) -> QueuePage:
    """The open and in-progress items with the highest priority (for the digest)."""
    return list_queue(session, QueueFilter(default_weight=default_weight), page=1, per_page=limit)
