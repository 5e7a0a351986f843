"""The author's standing kept on each review item (issue 18): the queue orders by it, re-weighting keeps it current,
and the page never shows a customer whose consent is gone."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core.settings import Settings
from resonanz.core.tables import CUSTOMER, ITEM
from resonanz.pipeline.weighting import apply_weights
from resonanz.review.queue import QueueFilter, list_queue
from resonanz.review.standing import refresh_standing
from tests.answers.factory import MONDAY, Factory


def _standing(session: Session) -> dict[int, tuple[str | None, float | None]]:
    rows = session.execute(select(ITEM.c.post_id, ITEM.c.segment, ITEM.c.author_weight)).all()
    return {post_id: (segment, weight) for post_id, segment, weight in rows}


def test_items_carry_their_authors_standing_and_the_queue_orders_by_it(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        big, small = f.customer("Hotel Rheinblick", "A", weight=20.0), f.customer("Kai Klein", "C", weight=1.0)
        ib, is_, ip = f.identity("@hotel"), f.identity("@kai"), f.identity("@fremd")
        f.link(ib, big)
        f.link(is_, small)
        posts = [f.post(i, "Schon wieder zu spät.") for i in (is_, ip, ib)]
        for p in posts:
            f.review_item(p, severity=2)
        session.commit()
        ids = [int(p.id or 0) for p in posts]
        assert refresh_standing(session) == 3
        session.commit()
        assert _standing(session) == {ids[0]: ("C", 1.0), ids[1]: ("prospect", None), ids[2]: ("A", 20.0)}
        assert refresh_standing(session) == 0  # nothing changed, nothing written
        page = list_queue(session, QueueFilter(now=MONDAY))
        # severity 2 x weight (20, 1, the default 0.5) x recency 1.0
        assert [(r.post_id, r.priority, r.segment) for r in page.rows] == [
            (ids[2], 40.0, "A"),
            (ids[0], 2.0, "C"),
            (ids[1], 1.0, "prospect"),
        ]
        assert list_queue(session, QueueFilter(classes=["A"], now=MONDAY)).total == 1


def test_new_items_get_their_standing_on_read_and_reweighting_updates_it(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        customer = f.customer("Anna Berg", "B", weight=3.0)
        ident = f.identity("@anna")
        post = f.post(ident, "Lieferung fehlt.")
        f.review_item(post, severity=3)
        session.commit()
        post_id = int(post.id or 0)
        # not linked yet: a prospect; the queue fills the standing of an item without one as it reads
        row = list_queue(session, QueueFilter(now=MONDAY)).rows[0]
        assert (row.segment, row.priority) == ("prospect", 1.5)
        session.commit()
        f.link(ident, customer)
        session.commit()
    apply_weights(engine, Settings())  # what linking and valuation run: the queue's standing follows
    with Session(engine) as session:
        assert _standing(session)[post_id] == ("B", 3.0)
        row = list_queue(session, QueueFilter(now=MONDAY)).rows[0]
        assert (row.segment, row.priority, row.customer_name) == ("B", 9.0, "Anna Berg")


def test_a_withdrawn_consent_hides_the_customer_at_once(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        customer = f.customer("Zoe Zurück", "A", weight=10.0)
        ident = f.identity("@zoe")
        f.link(ident, customer)
        f.review_item(f.post(ident, "Nie wieder."), severity=4)
        session.commit()
        refresh_standing(session)
        session.execute(update(CUSTOMER).where(CUSTOMER.c.id == customer.id).values(consent_status="withdrawn"))
        session.commit()
        row = list_queue(session, QueueFilter(now=MONDAY)).rows[0]
        # until the next re-weighting the order keeps the old weight; the page shows no customer
        assert (row.segment, row.customer_id, row.customer_name) == ("prospect", None, None)
    apply_weights(engine, Settings())
    with Session(engine) as session:
        row = list_queue(session, QueueFilter(now=MONDAY)).rows[0]
        assert (row.segment, row.priority) == ("prospect", 2.0)
