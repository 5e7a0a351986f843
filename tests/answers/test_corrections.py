"""Corrections count at once (issue 12): in the score every answer reads, in the queue, after rescoring."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers.sql import AnswerFilter, post_rows
from resonanz.core.periods import iso_week
from resonanz.review.actions import correct_flag, correct_sentiment, correct_topic
from resonanz.review.corrections import Correction, apply_to_score, signed
from resonanz.review.queue import QueueFilter, list_queue
from store.models import LabelFeedback, ReviewItem, Score
from tests.answers.factory import MONDAY, WEEK, Factory


def test_replayed_corrections_by_hand() -> None:
    assert signed("+Preis") == (True, "Preis") and signed(" -Lieferung ") == (False, "Lieferung")
    c = Correction()
    for field, value in [("sentiment", "neutral"), ("topic", "+Preis"), ("topic", "-Lieferung"), ("flag", "+churn"),
                         ("sentiment", "negative"), ("topic", "Service")]:  # fmt: skip
        c.add(LabelFeedback(post_id=1, field=field, new_value=value, actor="carla"))
    assert c.sentiment == "negative" and c.topics == {"Preis": True, "Lieferung": False, "Service": True}
    score = Score(post_id=1, model_name="m", model_version="v", sentiment="positive", p_negative=0.1,
                  p_neutral=0.2, p_positive=0.7, topics=[{"topic": "Lieferung"}, {"topic": "App"}],
                  flags=[{"flag": "question", "severity": 1}])  # fmt: skip
    assert apply_to_score(score, c)
    assert (score.sentiment, score.p_negative, score.p_positive) == ("negative", 1.0, 0.0)
    assert [t["topic"] for t in score.topics] == ["App", "Preis", "Service"]  # Lieferung removed, App kept
    assert [f["flag"] for f in score.flags] == ["question", "churn"]
    assert not apply_to_score(score, c)  # applying again changes nothing


def test_a_correction_counts_everywhere_and_survives_a_new_score(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        anna = f.identity("@anna@x.social")
        f.link(anna, f.customer("Anna Amsel", "A"))
        post = f.post(anna, "Termine mit zwei anderen Röstereien sind vereinbart.", sentiment="neutral",
                      topics=["Lieferung", "Preis"])  # fmt: skip
        item = f.review_item(post, severity=1, reason="question")
        session.commit()
        correct_sentiment(session, item.id, "negative", "carla")
        correct_topic(session, item.id, "Lieferung", "carla", remove=True)
        correct_topic(session, item.id, "Wettbewerb", "carla")
        correct_flag(session, item.id, "churn", "carla")
        correct_flag(session, item.id, "question", "carla", remove=True)
        session.commit()

        def effective() -> tuple[str, list[str], list[str]]:
            rows = post_rows(AnswerFilter(period=iso_week(WEEK)), session.get_bind().dialect.name)
            sentiment, topics = session.execute(
                select(rows.c.sentiment, rows.c.topics).where(rows.c.post_id == post.id)
            ).one()
            reasons = [r["flag"] for r in session.get(ReviewItem, item.id).reasons]  # type: ignore[union-attr]
            return sentiment, sorted(t["topic"] for t in topics), reasons

        assert effective() == ("negative", ["Preis", "Wettbewerb"], ["churn"])
        row = next(
            r for r in list_queue(session, QueueFilter(now=MONDAY + timedelta(hours=1))).rows if r.item_id == item.id
        )
        assert row.sentiment == "negative" and row.severity == 2 and "Wettbewerb" in row.topics

        # a new model version scores the post again: the corrections are replayed on its score
        f.score(post, "positive", topics=["Lieferung"], model_version="v-new", scored_at=MONDAY + timedelta(days=1))
        session.commit()
        from resonanz.review.corrections import apply_corrections

        apply_corrections(session, [post.id])
        session.commit()
        assert effective() == ("negative", ["Wettbewerb"], ["churn"])
