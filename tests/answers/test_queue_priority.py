"""The queue's order (issue 12): severity x customer value x recency, churn from an A customer on top."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.review.queue import QueueFilter, list_queue
from tests.answers.factory import MONDAY, Factory

NOW = MONDAY + timedelta(hours=12)


def test_severity_times_value_times_recency(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        a_customer, c_customer = f.customer("Anna Aal", "A", weight=5.0), f.customer("Carl Cord", "C", weight=1.0)
        a_ident, c_ident = f.identity("@anna@x.social"), f.identity("@carl@x.social")
        f.link(a_ident, a_customer)
        f.link(c_ident, c_customer)
        expected = {
            "churn_a_today": (f.post(a_ident, "Ich kündige.", NOW - timedelta(hours=2)), 4),  # 4 x 5 x 1.0 = 20
            "complaint_a_2d": (f.post(a_ident, "Schon wieder zu spät.", NOW - timedelta(days=2)), 2),  # 2x5x0.8 = 8
            "safety_c_today": (f.post(c_ident, "Mühle hat geraucht!", NOW - timedelta(hours=1)), 5),  # 5x1x1 = 5
            "negative_a_40d": (f.post(a_ident, "Enttäuschend.", NOW - timedelta(days=40)), 3),  # 3x5x0.25 = 3.75
        }
        items = {name: f.review_item(post, severity).id for name, (post, severity) in expected.items()}
        session.commit()
        rows = list_queue(session, QueueFilter(now=NOW)).rows
        order = [next(n for n, i in items.items() if i == row.item_id) for row in rows]
        assert order == ["churn_a_today", "complaint_a_2d", "safety_c_today", "negative_a_40d"]
        assert [round(r.priority, 2) for r in rows] == [20.0, 8.0, 5.0, 3.75]
