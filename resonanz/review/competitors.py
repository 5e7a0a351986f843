"""Competitors' posts never become queue items: they are compared, not answered.

A competitor's post (its source is tagged with a competitor, :func:`resonanz.answers.sql.brand_clause`) keeps
its score, so it counts for share of voice and sentiment (:mod:`resonanz.answers.competitors`), but nobody of
ours is asked to answer it: scoring opens no item for it (:func:`competitor_posts`), and an item opened before
its source was tagged is dismissed at the next scoring pass (:func:`close_competitor_items`), with an audit
event saying why. The queue's own filter (:mod:`resonanz.review.queue`) stays as a second guard.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import not_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from resonanz.answers.sql import brand_clause
from resonanz.core.tables import ITEM, POST
from resonanz.review.statuses import ACTIVE_STATUSES, ReviewStatus
from store.db import session_scope
from store.models import ReviewEvent
from store.types import utcnow

log = logging.getLogger(__name__)

ACTOR = "competitors"
REASON = "competitor"
"""``detail["reason"]`` of the event that dismisses a competitor's item."""
CHUNK = 900


def competitor_clause() -> ColumnElement[bool]:
    """The posts of any competitor: not the own brand's (see :func:`resonanz.answers.sql.brand_clause`)."""
    return not_(brand_clause(None))


def competitor_posts(session: Session, post_ids: Collection[int]) -> set[int]:
    """The ids among ``post_ids`` whose source listens to a competitor."""
    ids = list(post_ids)
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = session.execute(select(POST.c.id).where(POST.c.id.in_(chunk), competitor_clause()))
        found.update(int(post_id) for (post_id,) in rows)
    return found


def close_competitor_items(engine: Engine) -> int:
    """Dismiss every active item of a competitor's post (one audit event each); returns how many."""
    now = utcnow()
    with session_scope(engine) as session:
        items = session.execute(
            select(ITEM.c.id, ITEM.c.status).where(
                ITEM.c.status.in_(ACTIVE_STATUSES),
                ITEM.c.post_id.in_(select(POST.c.id).where(competitor_clause())),
            )
        ).all()
        after = ReviewStatus.DISMISSED.value
        for item_id, before in items:
            session.execute(update(ITEM).where(ITEM.c.id == item_id).values(status=after, updated_at=now))
            session.add(
                ReviewEvent(
                    review_item_id=item_id,
                    actor=ACTOR,
                    action=f"status_{after}",
                    detail={"before": before, "after": after, "reason": REASON},
                )
            )
    if items:
        log.info("dismissed %d review items of competitors' posts", len(items))
    return len(items)


__all__ = ["close_competitor_items", "competitor_clause", "competitor_posts"]
