"""The store's tables as SQLAlchemy Core handles, typed for mypy: one definition for every Core query.

The pipeline (linking, valuation, weighting) and the answers read and write in bulk with Core
statements rather than ORM objects; they all take their table handles from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func
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


def current_value_key(window_end: Any, computed_at: Any, row_id: int) -> tuple[Any, Any, int]:
    """The same rule as :func:`current_value_order` for rows already in memory: the larger key is current."""
    return (window_end or computed_at, computed_at, row_id)
