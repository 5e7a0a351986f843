"""Key customers in the queue (issue 12): their negative posts and replies to the brand are queued without a flag."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from resonanz.core.i18n import language
from resonanz.core.messages import flag_reason
from resonanz.core.settings import ReviewSettings, Settings
from resonanz.pipeline.key_customers import (
    KEY_FLAG,
    NEGATIVE_SEVERITY,
    REPLY_FLAG,
    REPLY_SEVERITY,
    watch_key_customers,
)
from resonanz.pipeline.scoring import _review
from resonanz.review.queue import QueueFilter, list_queue
from store.models import ReviewEvent, ReviewItem
from tests.answers.factory import Factory


def _world(session: Session) -> dict[str, int]:
    """An A-customer, a C-customer and a prospect, each with a negative post; the brand's reply to the A-customer
    and the A-customer's neutral answer to it; an A-customer's positive post and neutral post elsewhere."""
    f = Factory(session)
    a, c = f.customer("Hotel Rheinblick", "A", revenue=30000.0), f.customer("Kai Klein", "C", revenue=50.0)
    ia, ic, ip, brand = f.identity("@hotel"), f.identity("@kai"), f.identity("@fremd"), f.identity("@lindenhof")
    f.link(ia, a)
    f.link(ic, c)
    posts = {
        "a_negative": f.post(ia, "Drei Tickets, zwei Mails, ein Einschreiben. Antwort bisher: Textbausteine."),
        "c_negative": f.post(ic, "Die Lieferung kam wieder zu spät."),
        "prospect_negative": f.post(ip, "Schlechter Kaffee."),
        "a_positive": f.post(ia, "Die neue Röstung ist großartig.", sentiment="positive"),
        "a_neutral": f.post(ia, "Wir bestellen nächste Woche wieder.", sentiment="neutral"),
    }
    reply = f.post(brand, "Die Mühle tauschen wir diese Woche.", sentiment="neutral", parent=posts["a_negative"])
    reply.voice = "brand"
    session.add(reply)
    posts["brand_reply"] = reply
    posts["a_answer"] = f.post(ia, "Das hatten wir am 29.10. auch schon gehört.", sentiment="neutral", parent=reply)
    session.commit()
    return {name: int(post.id or 0) for name, post in posts.items()}


def _items(session: Session) -> dict[int, ReviewItem]:
    return {i.post_id: i for i in session.exec(select(ReviewItem)).scalars()}  # type: ignore[call-overload]


def test_key_customers_negative_posts_and_replies_to_the_brand_are_queued(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        posts = _world(session)
    report = watch_key_customers(engine, Settings())
    assert (report.negative, report.replies) == (1, 1)
    with Session(engine) as session:
        items = _items(session)
        assert set(items) == {posts["a_negative"], posts["a_answer"]}
        negative, answer = items[posts["a_negative"]], items[posts["a_answer"]]
        assert (negative.severity, [r["flag"] for r in negative.reasons]) == (NEGATIVE_SEVERITY, [KEY_FLAG])
        assert (answer.severity, [r["flag"] for r in answer.reasons]) == (REPLY_SEVERITY, [REPLY_FLAG])
        assert negative.reasons[0]["evidence"] == ["Klasse A", "p_negative 0.90"]
        events = session.exec(select(ReviewEvent.action, ReviewEvent.actor)).all()  # type: ignore[call-overload]
        assert sorted(events) == [("flagged", "key-customers")] * 2
        page = list_queue(session, QueueFilter())
        assert {r.post_id for r in page.rows} == set(items)
    with language("de"):
        assert flag_reason(negative.reasons[0]) == "Negativer Beitrag einer Kund:in der Klasse A"
    with language("en"):
        assert flag_reason(answer.reasons[0]) == "Class A customer replies to the brand"
    # idempotent: a second pass finds nothing new
    assert watch_key_customers(engine, Settings()).created == 0


def test_a_closed_item_stays_closed_and_the_classes_are_a_setting(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        posts = _world(session)
    assert watch_key_customers(engine, Settings(review=ReviewSettings(key_classes=[]))).created == 0
    wider = Settings(review=ReviewSettings(key_classes=["A", "C"]))
    with Session(engine) as session:  # a person dismissed the A-customer's item before the rule ran
        session.add(ReviewItem(post_id=posts["a_negative"], severity=2, status="dismissed", reasons=[]))
        session.commit()
    report = watch_key_customers(engine, wider)
    assert (report.negative, report.replies) == (1, 1)  # the C-customer's post and the reply; not the dismissed one
    with Session(engine) as session:
        items = _items(session)
        assert items[posts["a_negative"]].status == "dismissed"
        assert set(items) == {posts["a_negative"], posts["c_negative"], posts["a_answer"]}


def test_withdrawn_consent_or_a_positive_label_keeps_a_post_out(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        withdrawn = f.customer("Zoe Zurück", "A", consent="withdrawn")
        ident = f.identity("@zoe")
        f.link(ident, withdrawn)
        f.post(ident, "Ganz schlecht.")
        happy = f.customer("Carl Froh", "A")
        ident2 = f.identity("@carl")
        f.link(ident2, happy)
        post = f.post(ident2, "Schlecht? Nein, großartig!")
        f.score(post, "positive", scored_at=post.created_at + timedelta(hours=1))  # the latest score counts
        session.commit()
    assert watch_key_customers(engine, Settings()).created == 0


def test_rescoring_keeps_the_key_customer_reason(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        posts = _world(session)
    watch_key_customers(engine, Settings())
    from nlp.flags import Flag
    from nlp.pipeline import Analysis
    from nlp.scorer import SentimentResult

    analysis = Analysis(
        text="x",
        language="de",
        sentiment=SentimentResult("negative", 0.9, 0.05, 0.05),
        topics=[],
        flags=[Flag("complaint", 2, "Beschwerde", ["Textbausteine"])],
    )
    with Session(engine) as session:
        post_id = posts["a_negative"]
        item = session.exec(sql_select(ReviewItem).where(col(ReviewItem.post_id) == post_id)).one()
        events: list[tuple[ReviewItem, str, dict[str, object]]] = []
        assert _review(session, item, post_id, analysis, "default", "v2", events) == "updated"
        assert [r["flag"] for r in item.reasons] == ["complaint", KEY_FLAG]
        assert item.severity == NEGATIVE_SEVERITY


def test_a_scoring_run_looks_only_at_the_posts_it_scored(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        posts = _world(session)
    answer = posts["a_answer"]
    report = watch_key_customers(engine, Settings(), post_ids=(answer, answer))
    assert (report.negative, report.replies) == (0, 1)
    with Session(engine) as session:
        assert set(_items(session)) == {answer}
    # the whole store (after a re-weighting) finds the rest
    assert watch_key_customers(engine, Settings()).negative == 1
