"""Reading posts for the alerts: one typed record per post with its latest score, author, customer class
and value, and review item, for a time range (an index range scan on ``post.created_at``).

Who counts: customers and the public. The brand's own posts, employees' posts and copy-paste spam clusters
(``Post.voice``, set by :mod:`resonanz.pipeline.brand` and :mod:`resonanz.pipeline.duplicates`) and deleted
posts never raise or feed an alert; neither do the posts of sources tagged with a competitor (``resonanz
competitors`` compares them).

The author's customer is found with the answers' rule (:func:`resonanz.answers.sql.link_subquery`: linked
statuses, consent) restricted to the authors at hand, and the customer's latest value row is picked per
customer in Python, so the cost grows with the posts read, not with the history of values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from resonanz.alerts.signals import engagement
from resonanz.answers.sql import brand_clause, link_subquery
from resonanz.core.tables import CUSTOMER, IDENTITY, ITEM, POST, SCORE, VALUE, current_values
from resonanz.pipeline.brand import ADVOCATE, BRAND
from resonanz.pipeline.duplicates import SPAM
from store.types import as_utc

CHUNK = 900
EXCLUDED_VOICES = (BRAND, ADVOCATE, SPAM)
PROSPECT, UNVALUED = "prospect", "unvalued"


@dataclass(frozen=True)
class AlertPost:
    """A post as the alert rules see it."""

    post_id: int
    created_at: datetime
    observed_at: datetime
    """When its metrics were read (``fetched_at``)."""
    platform: str
    url: str | None
    text: str
    identity_id: int | None
    handle: str | None
    engagement: float
    scored: bool
    sentiment: str | None
    p_negative: float
    topics: tuple[str, ...]
    flags: tuple[str, ...]
    weight: float
    customer_id: int | None
    customer_name: str | None
    segment: str
    """A, B, C, 'unvalued' (linked, no value yet) or 'prospect' (not linked)."""
    revenue: float | None
    review_item_id: int | None

    @property
    def author(self) -> str:
        """One key per author: the identity, or the post itself when the author is unknown."""
        return f"i{self.identity_id}" if self.identity_id is not None else f"p{self.post_id}"

    @property
    def negative(self) -> bool:
        return self.sentiment == "negative"


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def _latest_scores(session: Session, post_ids: Sequence[int]) -> dict[int, Any]:
    latest: dict[int, Any] = {}
    for chunk in _chunks(post_ids):
        rows = session.execute(
            select(SCORE.c.post_id, SCORE.c.id, SCORE.c.scored_at, SCORE.c.sentiment, SCORE.c.p_negative,
                   SCORE.c.topics, SCORE.c.flags, SCORE.c.weight).where(SCORE.c.post_id.in_(chunk))
        ).all()  # fmt: skip
        for row in rows:
            prev = latest.get(row.post_id)
            if prev is None or (as_utc(row.scored_at), row.id) > (as_utc(prev.scored_at), prev.id):
                latest[row.post_id] = row
    return latest


def _customers(session: Session, identity_ids: Sequence[int]) -> dict[int, int]:
    lnk = link_subquery()
    out: dict[int, int] = {}
    for chunk in _chunks(identity_ids):
        for iid, cid in session.execute(
            select(lnk.c.identity_id, lnk.c.customer_id).where(lnk.c.identity_id.in_(chunk))
        ):
            out[int(iid)] = int(cid)
    return out


def _values(session: Session, customer_ids: Sequence[int]) -> dict[int, Any]:
    """customer -> their current value row (the shared rule: ``resonanz.core.tables.current_values``)."""
    current = current_values(VALUE.c.customer_id, VALUE.c.abc_class, VALUE.c.revenue, VALUE.c.weight)
    latest: dict[int, Any] = {}
    for chunk in _chunks(customer_ids):
        for row in session.execute(select(current).where(current.c.customer_id.in_(chunk))).all():
            latest[row.customer_id] = row
    return latest


def _names(session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    c = CUSTOMER.c
    for chunk in _chunks(customer_ids):
        for cid, first, last, company, crm in session.execute(
            select(c.id, c.first_name, c.last_name, c.company, c.crm_id).where(c.id.in_(chunk))
        ):
            person = " ".join(p for p in (first, last) if p)
            out[int(cid)] = company or person or crm
    return out


def _items(session: Session, post_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(post_ids):
        for item_id, post_id in session.execute(select(ITEM.c.id, ITEM.c.post_id).where(ITEM.c.post_id.in_(chunk))):
            out[int(post_id)] = int(item_id)
    return out


def load_posts(
    session: Session, start: datetime, end: datetime, *, prospect_weight: float, until: datetime | None = None
) -> list[AlertPost]:
    """Posts created in ``[start, end)`` (and not after ``until``) that count for alerts, oldest first."""
    p = POST.c
    query = (
        select(p.id, p.created_at, p.fetched_at, p.platform, p.url, p.text, p.title, p.identity_id, p.metrics,
               IDENTITY.c.handle)
        .select_from(POST.outerjoin(IDENTITY, IDENTITY.c.id == p.identity_id))
        .where(p.created_at >= start, p.created_at < end, p.deleted_at.is_(None),
               or_(p.voice.is_(None), p.voice.not_in(EXCLUDED_VOICES)))
        .where(brand_clause(None))  # competitors' posts (tagged sources) are compared, never alerted on
        .order_by(p.created_at, p.id)
    )  # fmt: skip
    if until is not None:
        query = query.where(p.created_at <= until)
    rows = session.execute(query).all()
    if not rows:
        return []
    post_ids = [int(r.id) for r in rows]
    scores = _latest_scores(session, post_ids)
    identities = sorted({int(r.identity_id) for r in rows if r.identity_id is not None})
    customers = _customers(session, identities)
    cids = sorted(set(customers.values()))
    values, names, items = _values(session, cids), _names(session, cids), _items(session, post_ids)
    return [_record(r, scores.get(int(r.id)), customers, values, names, items, prospect_weight) for r in rows]


def _record(
    r: Any,
    score: Any,
    customers: dict[int, int],
    values: dict[int, Any],
    names: dict[int, str],
    items: dict[int, int],
    prospect_weight: float,
) -> AlertPost:
    cid = customers.get(int(r.identity_id)) if r.identity_id is not None else None
    value = values.get(cid) if cid is not None else None
    segment = PROSPECT if cid is None else (UNVALUED if value is None else str(value.abc_class))
    if score is not None and score.weight is not None:
        weight = float(score.weight)
    elif value is not None:
        weight = float(value.weight)
    else:
        weight = prospect_weight
    created = as_utc(r.created_at)
    assert created is not None
    text = "\n".join(t for t in (r.title, r.text) if t)
    return AlertPost(
        post_id=int(r.id),
        created_at=created,
        observed_at=as_utc(r.fetched_at) or created,
        platform=str(r.platform),
        url=r.url,
        text=text,
        identity_id=int(r.identity_id) if r.identity_id is not None else None,
        handle=r.handle,
        engagement=engagement(r.metrics),
        scored=score is not None,
        sentiment=str(score.sentiment) if score is not None else None,
        p_negative=float(score.p_negative or 0.0) if score is not None else 0.0,
        topics=tuple(str(t.get("topic")) for t in (score.topics or []) if t.get("topic")) if score is not None else (),
        flags=tuple(str(f.get("flag")) for f in (score.flags or []) if f.get("flag")) if score is not None else (),
        weight=weight,
        customer_id=cid,
        customer_name=names.get(cid) if cid is not None else None,
        segment=segment,
        revenue=float(value.revenue) if value is not None else None,
        review_item_id=items.get(int(r.id)),
    )


def new_post_times(session: Session, post_after: int, score_after: int) -> tuple[list[datetime], int, int]:
    """Creation times of posts stored, and of posts scored, since the watermarks; and the new watermarks."""
    p = POST.c
    times: list[datetime] = []
    max_post, max_score = post_after, score_after
    for pid, created in session.execute(select(p.id, p.created_at).where(p.id > post_after)):
        max_post = max(max_post, int(pid))
        t = as_utc(created)
        if t is not None:
            times.append(t)
    rows = session.execute(
        select(SCORE.c.id, p.created_at).join(POST, p.id == SCORE.c.post_id).where(SCORE.c.id > score_after)
    )
    for sid, created in rows:
        max_score = max(max_score, int(sid))
        t = as_utc(created)
        if t is not None:
            times.append(t)
    return times, max_post, max_score


def by_hour(posts: Iterable[AlertPost]) -> dict[datetime, list[AlertPost]]:
    out: dict[datetime, list[AlertPost]] = {}
    for post in posts:
        out.setdefault(post.created_at.replace(minute=0, second=0, microsecond=0), []).append(post)
    return out
