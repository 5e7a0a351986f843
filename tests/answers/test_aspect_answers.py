"""Per-topic (aspect) polarity in ask, the dashboard and the answer formats, from Score.topics JSON."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.dashboard import dashboard
from resonanz.answers.format import aspect_line, to_json, to_text
from resonanz.core.periods import iso_week
from tests.answers.factory import MONDAY, WEEK, Factory, Scenario

W47 = iso_week(WEEK, "Europe/Berlin")


def add_mixed_posts(session: Session, sc: Scenario) -> None:
    """anna (A, weight 5): one mixed post, neutral overall; ben (A, 5): Lieferung praised; a prospect (0.5) too.

    With anna1 (negative, an old-style score without aspect polarity) Lieferung has, in W47:
    anna1 negative (5), anna3 negative about Lieferung (5), ben2 positive (5), p1c positive (0.5). As posts,
    anna3 is neutral and ben2 positive, so post-level and topic-level numbers differ.
    """
    f = Factory(session)
    i = sc.identities
    f.post(
        i["anna"],
        "Kaffee super, Lieferung eine Katastrophe",
        MONDAY,
        sentiment="neutral",
        topics=["Kaffee", "Lieferung"],
        aspects={"Kaffee": "positive", "Lieferung": "negative"},
    )
    f.post(
        i["ben"],
        "Lieferung pünktlich, nur der Kaffee war kalt",
        MONDAY,
        sentiment="positive",
        topics=["Lieferung", "Kaffee"],
        aspects={"Lieferung": "positive", "Kaffee": "negative"},
    )
    f.post(
        i["p1"],
        "Lieferung flott",
        MONDAY,
        sentiment="positive",
        topics=["Lieferung"],
        aspects={"Lieferung": "positive"},
    )
    session.commit()


def test_topic_rows_use_the_topics_own_polarity(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    add_mixed_posts(session, sc)
    topics = {t.topic: t for t in ask(session, AnswerFilter(period=W47)).topics}
    lieferung = topics["Lieferung"]
    assert lieferung.posts == 4 and lieferung.aspect_posts == 3
    assert lieferung.aspect_negative_share == pytest.approx(2 / 4)
    assert lieferung.aspect_negative_share_weighted == pytest.approx(10 / 15.5)
    assert lieferung.aspect_positive_share_weighted == pytest.approx(5.5 / 15.5)
    assert lieferung.aspect_negative_weighted == pytest.approx(10.0)
    assert lieferung.aspect_net_weighted == pytest.approx((5.5 - 10) / 15.5)
    # the post-level numbers are unchanged: as posts, anna3 is neutral and ben2 positive
    assert lieferung.negative_weighted == pytest.approx(5.0)
    assert lieferung.net_weighted == pytest.approx((5.5 - 5) / 15.5)
    kaffee = topics["Kaffee"]
    assert kaffee.aspect_positive_share == pytest.approx(0.5) and kaffee.aspect_negative_share == pytest.approx(0.5)
    assert kaffee.aspect_net == pytest.approx(0.0)
    assert kaffee.net == pytest.approx(0.5)  # as posts: one neutral, one positive
    # old scores without polarity fall back to the post's label
    preis = topics["Preis"]
    assert preis.aspect_posts == 0
    assert preis.aspect_negative_share_weighted == pytest.approx(5 / 7)
    assert preis.aspect_net_weighted == pytest.approx(preis.net_weighted)


def test_segment_filter_and_the_aspect_line(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    add_mixed_posts(session, sc)
    a = ask(session, AnswerFilter(period=W47, classes=["A"]), with_pareto=False)
    lieferung = next(t for t in a.topics if t.topic == "Lieferung")
    assert lieferung.posts == 3 and lieferung.aspect_negative_share_weighted == pytest.approx(10 / 15)
    assert aspect_line(lieferung) == "Lieferung: 67 % negativ (3 Beiträge)"
    assert aspect_line(lieferung, weighted=False) == "Lieferung: 67 % negativ (3 Beiträge)"


def test_json_keeps_its_keys_and_adds_the_aspect_ones(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    add_mixed_posts(session, sc)
    a = ask(session, AnswerFilter(period=W47), with_pareto=False)
    row = next(t for t in json.loads(to_json(a))["topics"] if t["topic"] == "Lieferung")
    for key in ("posts", "share", "weighted_share", "net", "net_weighted", "negative_weighted", "previous_posts"):
        assert key in row
    assert row["aspect_negative_share_weighted"] == pytest.approx(10 / 15.5)
    text = to_text(a, width=200)
    assert "negativ darüber" in text and "65 %" in text  # 10 / 15.5


def test_dashboard_lists_aspect_shares_of_its_top_topics(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    add_mixed_posts(session, sc)
    board = dashboard(session, now=MONDAY, weeks=2)
    rows = {t.topic: t for t in board.topic_aspects}
    assert list(rows) == [t for t in board.topic_share if t in rows]
    lieferung = rows["Lieferung"]
    # both weeks: + anna0 (positive, weight 5, the week before) and p1prev (negative, 0.5)
    assert lieferung.posts == 6
    assert lieferung.aspect_negative_share_weighted == pytest.approx(10.5 / 21)
    assert lieferung.aspect_positive_share_weighted == pytest.approx(10.5 / 21)
