"""Opening a review item from a rule that runs beside other writers (spam clusters, key customers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from resonanz.core.tables import ITEM
from store.bulk import conflict_insert
from store.models import ReviewEvent, ReviewItem


def open_item(
    session: Session, post_id: int, reasons: list[dict[str, Any]], severity: int, *, actor: str,
    detail: dict[str, Any],
) -> int | None:  # fmt: skip
    """Open a review item on ``post_id`` with its audit event ``flagged`` (``detail``); returns its id, or None when
    the post has an item already (another writer was first: its item stays as it is)."""
    values = ReviewItem(post_id=post_id, reasons=reasons, severity=severity).model_dump(exclude={"id"})
    stmt = (
        conflict_insert(session.get_bind().dialect.name)(ITEM)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[ITEM.c.post_id])
        .returning(ITEM.c.id)
    )
    item_id: int | None = session.execute(stmt).scalar_one_or_none()
    if item_id is not None:
        session.add(ReviewEvent(review_item_id=item_id, actor=actor, action="flagged", detail=detail))
    return item_id
