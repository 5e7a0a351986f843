"""The author's standing on each review item: what the queue orders and filters by, kept beside the item.

The queue's order is severity x the author's customer value x recency (:mod:`resonanz.review.queue`); its class
filter is the author's ABC class. Computing those per page meant joining every active item to its post, the
author's link (a window over all links) and the customer's current value (a window over all value rows): 0.5 s
per page at a million posts and 37,000 active items, under load the queue's whole latency. So each item keeps

* ``posted_at``: the post's time (recency),
* ``customer_id``, ``segment`` (A/B/C, ``unvalued`` or ``prospect``), ``author_weight`` (the customer's value
  weight; None for a prospect, who weighs the queue's default) and ``author_revenue`` (the tie-break),

computed by the one rule the answers use (:func:`resonanz.answers.sql.link_subquery`, ``value_subquery`` and
``segment_expr``). :func:`refresh_standing` writes them:

* for new items (``posted_at`` is None) at the end of every scoring run, and by the queue itself before it
  reads when any item lacks them (an upgraded database, an item opened by another path);
* for every item after each re-weighting (:func:`resonanz.pipeline.weighting.apply_weights`: linking,
  valuation, erasure, a link decision), when standings change.

Trade-off: between a consent withdrawal in the CRM and the next re-weighting an item keeps its old class and
weight for ordering; the queue page never shows a customer from it without checking the consent at that
moment (:func:`resonanz.review.queue.list_queue`).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Float, bindparam, cast, select, update
from sqlalchemy.orm import Session

from resonanz.answers.sql import link_subquery, segment_expr, value_subquery
from resonanz.core.tables import ITEM, POST

log = logging.getLogger(__name__)

CHUNK = 2000
_FIELDS = ("posted_at", "customer_id", "segment", "author_weight", "author_revenue")


def _rows(session: Session, missing_only: bool) -> list[Any]:
    lnk, val = link_subquery(), value_subquery()
    query = (
        select(
            ITEM.c.id,
            POST.c.created_at.label("posted_at"),
            lnk.c.customer_id.label("customer_id"),
            segment_expr(lnk, val).label("segment"),
            cast(val.c.weight, Float).label("author_weight"),
            cast(val.c.revenue, Float).label("author_revenue"),
            *(ITEM.c[f].label(f"old_{f}") for f in _FIELDS),
        )
        .select_from(ITEM)
        .join(POST, POST.c.id == ITEM.c.post_id)
        .outerjoin(lnk, lnk.c.identity_id == POST.c.identity_id)
        .outerjoin(val, val.c.customer_id == lnk.c.customer_id)
    )
    if missing_only:
        query = query.where(ITEM.c.posted_at.is_(None))
    return list(session.execute(query).all())


def refresh_standing(session: Session, *, missing_only: bool = False) -> int:
    """Write the standing of every item (``missing_only``: of the items without one); returns how many changed."""
    if missing_only and session.execute(select(ITEM.c.id).where(ITEM.c.posted_at.is_(None)).limit(1)).first() is None:
        return 0
    changed: list[dict[str, Any]] = []
    for row in _rows(session, missing_only):
        m = row._mapping
        new = {f: m[f] for f in _FIELDS}
        if new["author_weight"] is not None:
            new["author_weight"] = float(new["author_weight"])
        if any(new[f] != m[f"old_{f}"] for f in _FIELDS):
            changed.append({"item_id": m["id"], **{f"v_{f}": v for f, v in new.items()}})
    stmt = (
        update(ITEM)
        .where(ITEM.c.id == bindparam("item_id"))
        .values({f: bindparam(f"v_{f}") for f in _FIELDS})
        .execution_options(synchronize_session=False)
    )
    for start in range(0, len(changed), CHUNK):
        session.connection().execute(stmt, changed[start : start + CHUNK])
    if changed:
        log.info("queue standing: %d review items updated", len(changed))
    return len(changed)
