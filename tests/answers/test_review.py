"""The review queue ordering, filters and paging, and the audited actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, SQLModel, col, select

from resonanz.core.errors import ActionError, NotFoundError
from resonanz.review.actions import add_note, assign, correct_sentiment, correct_topic, decide_queue_link, set_status
from resonanz.review.detail import item_detail
from resonanz.review.queue import UNASSIGNED, QueueFilter, list_queue
from resonanz.web.accounts import hash_password
from store.db import make_engine
from store.models import IdentityLink, LabelFeedback, ReviewEvent, User
from tests.answers.factory import MONDAY, Factory, Scenario, build_scenario

NOW = MONDAY + timedelta(hours=12)
"""The queue's recency is measured from here: every scenario item is at most a day old."""


@pytest.fixture
def sc_session() -> Iterator[tuple[Session, Scenario]]:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        session.add(User(username="carla", password_hash=hash_password("x" * 12), role="community_manager"))
        session.add(User(username="old", password_hash="-", role="community_manager", active=False))
        sc = build_scenario(session)
        yield session, sc


def test_a_customer_complaint_comes_first(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    page = list_queue(session, QueueFilter(now=NOW))
    assert [r.item_id for r in page.rows] == [sc.items["anna1"].id, sc.items["anna2"].id, sc.items["p2a"].id]
    first = page.rows[0]
    # priority computed as severity x customer weight when not set: 4 x 5 beats the prospect's 4 x 0.5
    assert first.priority == pytest.approx(20.0) and page.rows[2].priority == pytest.approx(2.0)
    assert first.segment == "A" and first.customer_name == "Anna Amsel" and first.topics == ["Lieferung"]
    assert page.total == 3  # resolved items are not in the default (active) view


def test_stored_priority_wins(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    sc.items["p2a"].priority = 99.0
    session.add(sc.items["p2a"])
    session.commit()
    assert list_queue(session, QueueFilter(now=NOW)).rows[0].item_id == sc.items["p2a"].id


def test_filters_and_paging(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    assert list_queue(session, QueueFilter(statuses=[], now=NOW)).total == 4
    assert list_queue(session, QueueFilter(statuses=["resolved"], now=NOW)).rows[0].item_id == sc.items["clara1"].id
    assert list_queue(session, QueueFilter(min_severity=4, now=NOW)).total == 2
    assert list_queue(session, QueueFilter(classes=["prospect"], now=NOW)).rows[0].item_id == sc.items["p2a"].id
    assert list_queue(session, QueueFilter(statuses=[], platforms=["bluesky"], now=NOW)).total == 1
    assert list_queue(session, QueueFilter(topics=["Preis"], now=NOW)).total == 1
    assert list_queue(session, QueueFilter(assignee=UNASSIGNED, now=NOW)).total == 3
    assert list_queue(session, QueueFilter(assignee="carla", now=NOW)).total == 0
    p1 = list_queue(session, QueueFilter(statuses=[], now=NOW), page=1, per_page=3)
    p2 = list_queue(session, QueueFilter(statuses=[], now=NOW), page=2, per_page=3)
    assert p1.pages == 2 and len(p1.rows) == 3 and len(p2.rows) == 1
    assert {r.item_id for r in p1.rows}.isdisjoint({r.item_id for r in p2.rows})
    assert list_queue(session, QueueFilter(statuses=[], now=NOW), page=99, per_page=3).page == 2


def test_detail_thread_customer_history_evidence(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    f = Factory(session)
    reply_to_reply = f.post(sc.identities["anna"], "Immer noch nichts.", MONDAY, parent=sc.posts["reply"])
    item = f.review_item(reply_to_reply, severity=3)
    session.commit()
    d = item_detail(session, item.id or 0)
    assert [v.post.id for v in d.parents] == [sc.posts["anna1"].id, sc.posts["reply"].id]
    assert d.customer is not None and d.customer.first_name == "Anna"
    assert d.value is not None and d.value.abc_class == "A"
    assert {v.post.id for v in d.history} >= {sc.posts["anna1"].id, sc.posts["anna0"].id}
    d1 = item_detail(session, sc.items["anna1"].id or 0)
    assert [v.post.id for v in d1.replies] == [sc.posts["reply"].id]
    flags = {(e["flag"], e["source"]) for e in d1.evidence}
    assert {("complaint", "review"), ("complaint", "model"), ("topic: Lieferung", "topic")} <= flags
    emil = item_detail(session, f.review_item(f.post(sc.identities["emil"], "Hallo?"), 2).id or 0)
    assert emil.customer is None and [lv.link.status for lv in emil.pending_links] == ["pending"]


def test_actions_are_audited(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    item_id = sc.items["anna1"].id or 0
    assign(session, item_id, "carla", "carla")
    add_note(session, item_id, "Rufe Frau Amsel an.", "carla")
    correct_sentiment(session, item_id, "neutral", "carla")
    correct_topic(session, item_id, "Versand", "carla")
    set_status(session, item_id, "resolved", "carla")
    session.commit()
    events = session.exec(select(ReviewEvent).where(ReviewEvent.review_item_id == item_id)).all()
    assert [e.action for e in events] == ["assign", "note", "correct_sentiment", "correct_topic", "status"]
    assert all(e.actor == "carla" and e.at is not None for e in events)
    assert events[0].detail == {"before": None, "after": "carla"}
    item = sc.items["anna1"]
    session.refresh(item)
    assert item.status == "resolved" and item.assignee == "carla" and "Rufe Frau Amsel an." in (item.notes or "")
    fb = session.exec(select(LabelFeedback).order_by(col(LabelFeedback.id))).all()
    assert [(f.field, f.old_value, f.new_value) for f in fb] == [
        ("sentiment", "negative", "neutral"),
        ("topic", "Lieferung", "+Versand"),
    ]


def test_action_errors_say_what_to_do(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    item_id = sc.items["anna1"].id or 0
    with pytest.raises(ActionError, match="no active user"):
        assign(session, item_id, "old", "carla")
    with pytest.raises(ActionError, match="open, in_progress, answered, merged, resolved, dismissed"):
        set_status(session, item_id, "done", "carla")
    with pytest.raises(ActionError, match="empty"):
        add_note(session, item_id, "  ", "carla")
    with pytest.raises(ActionError, match="negative, neutral or positive"):
        correct_sentiment(session, item_id, "angry", "carla")
    with pytest.raises(NotFoundError, match="reload"):
        set_status(session, 9999, "open", "carla")


def test_decide_pending_link(sc_session: tuple[Session, Scenario]) -> None:
    session, sc = sc_session
    link = sc.pending_link
    assert link is not None and link.id is not None
    decide_queue_link(session, link.id, "confirmed", "carla", sc.items["anna1"].id)
    session.commit()
    stored = session.get(IdentityLink, link.id)
    assert stored is not None and stored.status == "confirmed" and stored.decided_by == "carla"
    event = session.exec(select(ReviewEvent).where(ReviewEvent.action == "link_confirmed")).one()
    assert event.detail["link_id"] == link.id and event.detail["before"] == "pending"
    decide_queue_link(session, link.id, "rejected", "carla")
    assert stored.status == "rejected"
    with pytest.raises(ActionError):
        decide_queue_link(session, link.id, "maybe", "carla")
