"""The store's tables as SQLAlchemy Core handles, typed for mypy: one definition for every Core query.

The pipeline (linking, valuation, weighting) and the answers read and write in bulk with Core
statements rather than ORM objects; they all take their table handles from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Subquery, Table, func, select, union_all, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import SelectBase

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
    return _newest_first(VALUE.c)


def _newest_first(v: Any) -> tuple[ColumnElement[Any], ...]:
    """:func:`current_value_order` over the columns ``v`` (of the table or of a subquery of its rows)."""
    return (func.coalesce(v.window_end, v.computed_at).desc(), v.computed_at.desc(), v.id.desc())


def current_values(*columns: Any, name: str = "current_value", customer_ids: Any = None) -> Subquery:
    """``columns`` of every customer's current CustomerValue row (one row per customer, the row
    :func:`mark_current_values` marked by :func:`current_value_order`), for queries that must not read the whole
    history. ``customer_ids``: only these customers (a list or a subquery of ids), for queries about a few posts."""
    rows = select(*columns).where(VALUE.c.is_current)
    if customer_ids is not None:
        rows = rows.where(VALUE.c.customer_id.in_(customer_ids))
    return rows.subquery(name)


def mark_current_values(executor: Connection | OrmSession, *, since_id: int | None = None) -> int:
    """Mark each customer's current value row (:func:`current_value_order`) ``is_current`` and unmark every other
    row; returns how many rows changed. Whoever writes or deletes value rows calls it in the same transaction (the
    valuation does, with ``since_id``).

    ``since_id``: the highest row id after any deletes and before the rows just written (SQLite gives a deleted
    highest id to the next row), when the marks were right before. Then the customers without a marked row (new
    ones, or a delete took theirs) are ranked over their whole history, and every other customer's marked row
    against their new rows only (the old rows ranked below it). Without it the whole history is ranked.

    Trade-off: the ranking runs once per valuation instead of in every reader's query: an answer, a weighting or a
    queue refresh then reads one row per customer through ``ix_customer_value_current``."""
    v = VALUE.c
    columns = (v.id, v.customer_id, v.window_end, v.computed_at, v.is_current)
    if since_id is None:
        return _mark_first(executor, select(*columns))
    # first the customers without a marked row (new ones, or theirs was deleted): over their whole history
    own = VALUE.alias("own")
    has_marked = select(own.c.id).where(own.c.is_current, own.c.customer_id == CUSTOMER.c.id).exists()
    has_rows = select(own.c.id).where(own.c.customer_id == CUSTOMER.c.id).exists()
    unmarked = select(CUSTOMER.c.id).where(~has_marked, has_rows)
    changed = _mark_first(executor, select(*columns).where(v.customer_id.in_(unmarked)), unmark=False)
    # then every customer's marked row against their new rows
    candidates = union_all(select(*columns).where(v.is_current), select(*columns).where(v.id > since_id, ~v.is_current))
    return changed + _mark_first(executor, candidates)


def _mark_first(executor: Connection | OrmSession, rows: SelectBase, *, unmark: bool = True) -> int:
    """Among ``rows`` (value rows: id, customer, analysis date, computation time, mark) mark each customer's first
    by :func:`current_value_order`; with ``unmark``, unmark the others; how many rows changed. Both updates find
    their rows by id (a ranking of the candidates), not by a scan of every unmarked row."""
    candidates = rows.subquery("candidates")
    ranked = select(
        candidates.c.id,
        candidates.c.is_current,
        func.row_number().over(partition_by=candidates.c.customer_id, order_by=_newest_first(candidates.c)).label("rn"),
    ).subquery("ranked")
    statements = [
        update(VALUE)
        .where(VALUE.c.id.in_(select(ranked.c.id).where(ranked.c.rn == 1, ~ranked.c.is_current)))
        .values(is_current=True)
    ]
    if unmark:
        demoted = select(ranked.c.id).where(ranked.c.rn > 1, ranked.c.is_current)
        statements.insert(0, update(VALUE).where(VALUE.c.id.in_(demoted)).values(is_current=False))
    changed = 0
    for stmt in statements:
        result: Any = executor.execute(stmt)
        changed += int(result.rowcount or 0)
    return changed
