"""The scoring pass streams the backlog chunk by chunk: a failure while chunk 2 is written leaves chunk 1 stored
(scores, languages, review items and their events) and nothing of chunk 2; the rerun scores the rest, each post
once. Languages stored with a post are kept (not detected again)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from nlp.pipeline import Analyzer
from resonanz.core.settings import Settings
from resonanz.pipeline import scoring
from resonanz.pipeline.scoring import score_posts
from resonanz.review.corrections import apply_corrections
from store.models import Post, ReviewEvent, ReviewItem, Score
from tests.nlp.test_scoring import TEXTS, add_posts, make_analyzer

CHUNK = 3


@pytest.fixture(scope="module")
def analyzer(tiny_family: dict[str, Path]) -> Analyzer:
    return make_analyzer(tiny_family["sentiment"], tiny_family)


class Injected(RuntimeError):
    pass


def stored(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return {
            "scores": Counter(session.exec(select(Score.post_id)).all()),
            "items": Counter(session.exec(select(ReviewItem.post_id)).all()),
            "events": Counter(
                (item, action) for item, action in session.exec(select(ReviewEvent.review_item_id, ReviewEvent.action))
            ),
            "languages": dict(session.exec(select(Post.id, Post.language).order_by(col(Post.id))).all()),
        }


def test_a_failure_in_chunk_two_keeps_chunk_one_and_the_rerun_completes_once(
    engine: Engine, analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_posts(engine, TEXTS)
    reference = analyzer.analyse(TEXTS)
    flagged = {i for i, a in zip(ids, reference, strict=True) if a.severity >= scoring.REVIEW_MIN_SEVERITY}
    assert flagged & set(ids[:CHUNK]) and flagged & set(ids[CHUNK : 2 * CHUNK])  # both chunks open items

    original = apply_corrections
    calls = []

    def failing(session: Session, post_ids: Any) -> int:  # runs after the chunk's rows are written, same transaction
        calls.append(list(post_ids))
        if len(calls) == 2:
            raise Injected("disk full")
        return original(session, post_ids)

    monkeypatch.setattr("resonanz.pipeline.scoring.apply_corrections", failing)
    with pytest.raises(Injected):
        score_posts(engine, Settings(), analyzer=analyzer, chunk_size=CHUNK, progress=False)
    after_crash = stored(engine)
    first = set(ids[:CHUNK])
    assert set(after_crash["scores"]) == first and set(after_crash["scores"].values()) == {1}
    assert set(after_crash["items"]) == flagged & first
    assert sum(after_crash["events"].values()) == len(flagged & first)
    assert all(after_crash["languages"][i] is not None for i in first)
    assert all(after_crash["languages"][i] is None for i in ids[CHUNK:])  # chunk 2 rolled back entirely

    monkeypatch.setattr("resonanz.pipeline.scoring.apply_corrections", original)
    report = score_posts(engine, Settings(), analyzer=analyzer, chunk_size=CHUNK, progress=False)
    assert report.scored == len(TEXTS) - CHUNK
    assert report.review_created == len(flagged - first)
    final = stored(engine)
    assert final["scores"] == Counter(ids)  # every post scored exactly once
    assert final["items"] == Counter(flagged)
    assert Counter(action for _, action in final["events"].elements()) == Counter({"flagged": len(flagged)})
    assert all(count == 1 for count in final["events"].values())


def test_stored_languages_are_kept_and_the_rest_detected(engine: Engine, analyzer: Analyzer) -> None:
    (known,) = add_posts(engine, ["Die Lieferung kam zu spät und das Paket war kaputt."], language="fr")
    (unknown,) = add_posts(engine, ["Die Lieferung kam zu spät und das Paket war kaputt, schon wieder."])
    report = score_posts(engine, Settings(), analyzer=analyzer, progress=False)
    assert report.scored == 2 and report.languages_set == 1
    languages = stored(engine)["languages"]
    assert languages[known] == "fr" and languages[unknown] == "de"
