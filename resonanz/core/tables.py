"""The store's tables as SQLAlchemy Core handles, typed for mypy: one definition for every Core query.

The pipeline (linking, valuation, weighting) and the answers read and write in bulk with Core
statements rather than ORM objects; they all take their table handles from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Subquery, Table, func, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import ColumnElement

from store.models import (
    Customer,
    CustomerValue,
    IdentityLink,
    LoyaltyEvent,
    Order,
    Post,
    ReviewItem,
    Score,
    SocialIdentity,
)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


CUSTOMER = _table(Customer)
VALUE = _table(CustomerValue)
LINK = _table(IdentityLink)
IDENTITY = _table(SocialIdentity)
POST = _table(Post)
SCORE = _table(Score)
ORDER = _table(Order)
EVENT = _table(LoyaltyEvent)
ITEM = _table(ReviewItem)


def current_value_order() -> tuple[ColumnElement[Any], ...]:
    """ORDER BY for "a customer's current standing", newest first: one rule for every reader.

    The value row of the latest *analysis date* (``window_end``, the run's ``as_of``) wins; among runs for
    the same date, the latest computation. So a back-dated ``resonanz value --as-of 2025-06-30`` adds
    history but never replaces today's standing for weighting, the queue and the answers (it is used
    only while it is the only run there is).
    """
    v = VALUE.c
    return (func.coalesce(v.window_end, v.computed_at).desc(), v.computed_at.desc(), v.id.desc())


def current_values(*columns: Any, name: str = "current_value", customer_ids: Any = None) -> Subquery:
    """``columns`` of every customer's current CustomerValue row (one row per customer, the row
    :func:`mark_current_values` marked by :func:`current_value_order`), for queries that must not read the whole
    history. ``customer_ids``: only these customers (a list or a subquery of ids), for queries about a few posts."""
    rows = select(*columns).where(VALUE.c.is_current)
    if customer_ids is not None:
        rows = rows.where(VALUE.c.customer_id.in_(customer_ids))
    return rows.subquery(name)


def mark_current_values(executor: Connection | OrmSession) -> int:
    """Mark each customer's current value row (:func:`current_value_order`) ``is_current`` and unmark every other
    row; returns how many rows changed. Whoever writes or deletes value rows calls it in the same transaction (the
    valuation does).

    Trade-off: the ranking runs once per valuation over the whole history (about 90 rows per customer with a
    daily valuation) instead of in every reader's query: an answer, a weighting or a queue refresh then reads
    one row per customer through ``ix_customer_value_current``."""
    ranked = select(
        VALUE.c.id,
        func.row_number().over(partition_by=VALUE.c.customer_id, order_by=current_value_order()).label("rn"),
    ).subquery("ranked")
    best = select(ranked.c.id).where(ranked.c.rn == 1)
    v = VALUE.c
    changed = 0
    for stmt in (
        update(VALUE).where(v.is_current, v.id.not_in(best)).values(is_current=False),
        update(VALUE).where(~v.is_current, v.id.in_(best)).values(is_current=True),
    ):
        result: Any = executor.execute(stmt)
        changed += int(result.rowcount or 0)
    return changed
