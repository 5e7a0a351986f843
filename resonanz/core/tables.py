"""The store's tables as SQLAlchemy Core handles, typed for mypy: one definition for every Core query.

The pipeline (linking, valuation, weighting) and the answers read and write in bulk with Core
statements rather than ORM objects; they all take their table handles from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

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
