"""Competitors' posts are scored but never queued (issue 17, leftover 1): no review item at scoring time, an item
opened before the source was tagged is dismissed at the next pass, and a copy-paste cluster puts its one item on
an own-brand post, never on a competitor's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from nlp.pipeline import Analyzer
from resonanz.core.settings import Settings
from resonanz.pipeline.duplicates import merge_duplicates
from resonanz.pipeline.scoring import score_posts
from resonanz.review.queue import QueueFilter, list_queue
from store.models import Post, ReviewEvent, ReviewItem, Score, Source
from tests.answers.factory import MONDAY, Factory
from tests.nlp.test_scoring import make_analyzer

CHURN = "ich will kündigen nie wieder"
"""Flagged 'churn' (severity 4) by the analyzer's rules, whatever the tiny models say."""


@pytest.fixture(scope="module")
def analyzer(tiny_family: dict[str, object]) -> Analyzer:
    return make_analyzer(tiny_family["sentiment"], tiny_family)  # type: ignore[arg-type]


def _sources(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        own, rival = (
            Source(name="eigen", platform="mastodon"),
            Source(name="rl", platform="mastodon", brand="Röstlicht"),
        )
        session.add_all([own, rival])
        session.commit()
        assert own.id is not None and rival.id is not None
        return own.id, rival.id


def _post(engine: Engine, key: str, source_id: int | None, text: str = CHURN) -> int:
    with Session(engine) as session:
        post = Post(platform="test", external_id=key, text=text, created_at=datetime(2026, 11, 1, tzinfo=UTC),
                    source_id=source_id)  # fmt: skip
        session.add(post)
        session.commit()
        assert post.id is not None
        return post.id


def _items(engine: Engine) -> dict[int, ReviewItem]:
    with Session(engine) as session:
        return {i.post_id: i for i in session.exec(select(ReviewItem))}


def test_a_competitors_churn_post_is_scored_but_never_queued(engine: Engine, analyzer: Analyzer) -> None:
    own_source, rival_source = _sources(engine)
    own = _post(engine, "own", own_source)
    imported = _post(engine, "imported", None)  # no source: the own brand
    rival = _post(engine, "rival", rival_source)
    report = score_posts(engine, Settings(), analyzer=analyzer, progress=False)
    assert report.scored == 3
    with Session(engine) as session:
        scored = {s.post_id: s for s in session.exec(select(Score))}
        events = session.exec(select(ReviewEvent)).all()
    assert set(scored) == {own, imported, rival}  # the competitor's post keeps its score (share of voice)
    assert scored[rival].flags == scored[own].flags and "churn" in [f["flag"] for f in scored[rival].flags]
    items = _items(engine)
    assert set(items) == {own, imported}  # the same text: our customers' posts get an item, the rival's none
    assert "churn" in [r["flag"] for r in items[own].reasons]
    assert report.flagged == report.review_created == 2
    assert {e.review_item_id for e in events} == {items[own].id, items[imported].id}
    # rescoring does not open one either
    assert score_posts(engine, Settings(), analyzer=analyzer, rescore=True, progress=False).scored == 3
    assert set(_items(engine)) == {own, imported}


def test_an_item_opened_before_the_source_was_tagged_is_dismissed(engine: Engine, analyzer: Analyzer) -> None:
    own_source, _ = _sources(engine)
    later = Source(name="later-tagged", platform="mastodon")
    with Session(engine) as session:
        session.add(later)
        session.commit()
        assert later.id is not None
        later_id = later.id
    own, moved = _post(engine, "own", own_source), _post(engine, "moved", later_id)
    score_posts(engine, Settings(), analyzer=analyzer, progress=False)
    assert set(_items(engine)) == {own, moved}
    with Session(engine) as session:
        source = session.get(Source, later_id)
        assert source is not None
        source.brand = "Brix"  # what `resonanz sources tag later-tagged --brand Brix` does
        session.add(source)
        session.commit()
    report = score_posts(engine, Settings(), analyzer=analyzer, progress=False)  # nothing new to score
    assert report.scored == 0
    items = _items(engine)
    assert items[moved].status == "dismissed" and items[own].status == "open"
    with Session(engine) as session:
        event = session.exec(select(ReviewEvent).where(ReviewEvent.review_item_id == items[moved].id,
                                                       ReviewEvent.actor == "competitors")).one()  # fmt: skip
        queue = list_queue(session, QueueFilter(statuses=()))  # every status: the display filter is not needed
    assert event.detail["reason"] == "competitor" and event.detail["before"] == "open"
    assert [r.post_id for r in queue.rows] == [own]


SPAM = "GRATIS Gutschein im Wert von 100 Euro nur heute hier klicken"


def _cluster(engine: Engine, rival_source: int, rivals: int, own: int) -> list[int]:
    """A copy-paste cluster: ``rivals`` competitor posts (the earliest), then ``own`` own-brand posts."""
    with Session(engine) as session:
        f = Factory(session)
        posts = []
        for i in range(rivals + own):
            post = f.post(f.identity(f"@promo{i}@mastodon.social"), SPAM, MONDAY.replace(hour=1 + i), scored=False)
            post.source_id = rival_source if i < rivals else None
            session.add(post)
            posts.append(post)
        session.commit()
        return [p.id for p in posts if p.id is not None]


def test_a_copy_paste_cluster_gets_its_item_on_an_own_brand_post(engine: Engine) -> None:
    _, rival_source = _sources(engine)
    ids = _cluster(engine, rival_source, rivals=2, own=2)
    assert merge_duplicates(engine).spam_clusters == 1
    items = _items(engine)
    assert set(items) == {ids[2]}  # the earliest own-brand post carries the cluster
    assert items[ids[2]].reasons[0]["flag"] == "spam_cluster"


def test_a_competitors_copy_paste_cluster_is_spam_but_not_queued(engine: Engine) -> None:
    _, rival_source = _sources(engine)
    ids = _cluster(engine, rival_source, rivals=3, own=0)
    assert merge_duplicates(engine).spam_clusters == 1
    assert _items(engine) == {}
    with Session(engine) as session:
        voices = session.exec(select(Post.voice).where(col(Post.id).in_(ids))).all()
    assert list(voices) == ["spam"] * 3  # out of every answer's voice, as any spam cluster
