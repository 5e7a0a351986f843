"""resonanz.pipeline.scoring: unscored posts -> Score and ReviewItem rows, chunked, resumable, per model version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from nlp import language
from nlp.embedder import Embedder
from nlp.offensive import OffensiveClassifier
from nlp.pipeline import Analysis, Analyzer
from nlp.scorer import TransformerScorer
from resonanz.core.settings import Settings
from resonanz.pipeline import scoring
from resonanz.pipeline.scoring import score_posts
from store.models import LabelFeedback, Post, ReviewEvent, ReviewItem, Score

TEXTS = [
    "die lieferung kam zu spät und das paket war kaputt",
    "super danke für die schnelle hilfe",
    "ich will kündigen nie wieder",
    "der preis ist viel zu hoch",
    "app stürzt ab",
    "Vielen Dank, alles bestens angekommen!",
    "Das ist eine Frechheit, ich schalte meinen Anwalt ein.",
]


def make_analyzer(sentiment: Path, family: dict[str, Path]) -> Analyzer:
    opts = {"batch_tokens": 64, "workers": 2, "progress": False}
    return Analyzer(
        TransformerScorer(sentiment, **opts),  # type: ignore[arg-type]
        offensive=OffensiveClassifier(family["offensive"], **opts),  # type: ignore[arg-type]
        embedder=Embedder(family["encoder"], **opts),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def analyzer(tiny_family: dict[str, Path]) -> Analyzer:
    return make_analyzer(tiny_family["sentiment"], tiny_family)


def add_posts(engine: Engine, texts: Sequence[str], **extra: object) -> list[int]:
    with Session(engine) as session:
        posts = [
            Post(
                platform="test",
                external_id=f"{len(t)}-{i}-{t[:8]}",
                text=t,
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
                **extra,  # type: ignore[arg-type]
            )
            for i, t in enumerate(texts)
        ]
        session.add_all(posts)
        session.commit()
        return [p.id for p in posts if p.id is not None]


def scores(engine: Engine) -> list[Score]:
    with Session(engine) as session:
        return list(session.exec(select(Score).order_by(col(Score.post_id), col(Score.model_version))))


def test_scores_every_post_once_and_opens_review_items(engine: Engine, analyzer: Analyzer) -> None:
    ids = add_posts(engine, TEXTS)
    add_posts(engine, ["   "])  # nothing to analyse
    add_posts(engine, ["gelöschter beitrag mit kündigen"], deleted_at=datetime(2026, 11, 2, tzinfo=UTC))
    report = score_posts(engine, Settings(), analyzer=analyzer, chunk_size=3, progress=False)
    assert report.scored == len(TEXTS) and report.chunks == 3
    assert (report.model_name, report.model_version) == (analyzer.name, "fam-s-1")
    rows = scores(engine)
    assert [s.post_id for s in rows] == ids
    expected = analyzer.analyse(TEXTS)
    for row, analysis in zip(rows, expected, strict=True):
        assert row.sentiment == analysis.label
        assert row.p_negative == pytest.approx(analysis.sentiment.p_negative, abs=1e-6)
        assert row.topics == [t.as_dict() for t in analysis.topics]
        assert row.flags == [f.as_dict() for f in analysis.flags]
        assert row.model_name == analyzer.name and row.model_version == "fam-s-1"
    with Session(engine) as session:
        items = {i.post_id: i for i in session.exec(select(ReviewItem))}
        churn = items[ids[2]]
        assert churn.severity >= 4 and "churn" in [r["flag"] for r in churn.reasons]
        assert churn.priority == 0.0  # left to the queue: severity x customer value
        assert "legal" in [r["flag"] for r in items[ids[6]].reasons]
        flagged = {ids[i] for i, a in enumerate(expected) if a.severity >= 1}
        assert set(items) == flagged and report.flagged == len(flagged) == report.review_created
        events = session.exec(select(ReviewEvent)).all()
        assert {e.action for e in events} == {"flagged"} and len(events) == len(flagged)
        assert session.get(Post, ids[5]).language == "de"  # type: ignore[union-attr]
    # a second run finds nothing to do
    assert score_posts(engine, Settings(), analyzer=analyzer, progress=False).scored == 0


class CrashingAnalyzer(Analyzer):
    """The real analyzer, but the process 'dies' while analysing the second chunk."""

    calls = 0

    def analyse(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, *, detect: bool = True
    ) -> list[Analysis]:
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt
        return super().analyse(texts, languages, detect=detect)


def test_a_crash_loses_at_most_one_chunk_and_a_rerun_resumes(
    engine: Engine, analyzer: Analyzer, tiny_family: dict[str, Path]
) -> None:
    ids = add_posts(engine, TEXTS)
    crashing = CrashingAnalyzer(analyzer.scorer, offensive=analyzer.offensive, embedder=analyzer.embedder)
    with pytest.raises(KeyboardInterrupt):
        score_posts(engine, Settings(), analyzer=crashing, chunk_size=3, progress=False)
    assert [s.post_id for s in scores(engine)] == ids[:3]  # the first chunk was committed
    report = score_posts(engine, Settings(), analyzer=analyzer, chunk_size=3, progress=False)
    assert report.scored == len(TEXTS) - 3
    assert [s.post_id for s in scores(engine)] == ids


def test_new_model_version_keeps_history_and_limit(
    engine: Engine, analyzer: Analyzer, tiny_sentiment_dir: Path, tiny_family: dict[str, Path]
) -> None:
    ids = add_posts(engine, TEXTS)
    score_posts(engine, Settings(), analyzer=analyzer, progress=False)
    other = make_analyzer(tiny_sentiment_dir, tiny_family)  # version tiny-1
    assert score_posts(engine, Settings(), analyzer=other, limit=2, progress=False).scored == 2
    assert score_posts(engine, Settings(), analyzer=other, progress=False).scored == len(TEXTS) - 2
    rows = scores(engine)
    assert len(rows) == 2 * len(TEXTS)
    assert {(s.post_id, s.model_version) for s in rows} == {(i, v) for i in ids for v in ("fam-s-1", "tiny-1")}


def test_rescore_overwrites_and_respects_closed_review_items(engine: Engine, analyzer: Analyzer) -> None:
    ids = add_posts(engine, TEXTS)
    score_posts(engine, Settings(), analyzer=analyzer, progress=False)
    with Session(engine) as session:
        before = {s.post_id: s.scored_at for s in session.exec(select(Score))}
        item = session.exec(select(ReviewItem).where(ReviewItem.post_id == ids[2])).one()
        item.status, item.reasons, item.severity = "resolved", [], 1
        other = session.exec(select(ReviewItem).where(ReviewItem.post_id == ids[6])).one()
        other.reasons = [{"flag": "old"}]
        session.add_all([item, other])
        session.commit()
    report = score_posts(engine, Settings(), analyzer=analyzer, rescore=True, progress=False)
    assert report.scored == len(TEXTS) and report.review_created == 0 and report.review_updated == 1
    rows = scores(engine)
    assert len(rows) == len(TEXTS)  # overwritten, not duplicated
    assert all(r.scored_at >= before[r.post_id] for r in rows)
    with Session(engine) as session:
        assert session.exec(select(ReviewItem).where(ReviewItem.post_id == ids[2])).one().reasons == []  # resolved
        updated = session.exec(select(ReviewItem).where(ReviewItem.post_id == ids[6])).one()
        assert "legal" in [r["flag"] for r in updated.reasons]
        assert "reflagged" in {e.action for e in session.exec(select(ReviewEvent))}


def test_corrections_survive_rescoring(engine: Engine, analyzer: Analyzer) -> None:
    """A person's sentiment/topic corrections are replayed on the scores of a new scoring run (issue 12)."""
    (post_id,) = add_posts(engine, ["Die Lieferung kam zu spät, ich kündige!"])
    score_posts(engine, Settings(), analyzer=analyzer, progress=False)
    with Session(engine) as session:
        session.add(LabelFeedback(post_id=post_id, field="sentiment", new_value="positive", actor="carla"))
        session.add(LabelFeedback(post_id=post_id, field="topic", new_value="+Humor", actor="carla"))
        session.commit()
    score_posts(engine, Settings(), analyzer=analyzer, rescore=True, progress=False)
    (score,) = scores(engine)
    assert score.sentiment == "positive" and score.p_positive == 1.0
    assert "Humor" in [t["topic"] for t in score.topics]


def test_languages_are_detected_a_window_ahead_once_per_post_and_released(
    engine: Engine, analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The languages of a window of posts are detected before their chunks (each post once, an undetermined one
    is not detected again) and are those each post gets alone; a whole backlog releases the models per window,
    ``resonanz run``'s small batches (a limit) keep them."""
    texts = [*TEXTS, "Thanks a lot, the parcel arrived on time!", "Merci beaucoup pour votre aide rapide", "!!! 123"]
    ids = add_posts(engine, texts)
    detected: list[str] = []
    released: list[int] = []
    detect = language.detect_languages

    def spy(batch: Sequence[str], min_confidence: float = language.MIN_CONFIDENCE) -> list[str | None]:
        detected.extend(batch)
        return detect(batch, min_confidence)

    monkeypatch.setattr(language, "detect_languages", spy)
    monkeypatch.setattr(language, "release_models", lambda: released.append(1))
    monkeypatch.setattr(scoring, "LANGUAGE_WINDOW", 4)
    assert score_posts(engine, Settings(), analyzer=analyzer, chunk_size=2, progress=False).scored == len(texts)
    assert sorted(detected) == sorted(texts)  # once each, "!!! 123" (no letters) included
    assert len(released) == 3  # windows of 4, 4 and 2 posts, each at least a chunk
    with Session(engine) as session:
        stored = {p.id: p.language for p in session.exec(select(Post))}
    alone = [detect([t])[0] for t in texts]
    assert [stored[i] for i in ids] == alone and alone[-1] is None and alone[-3:-1] == ["en", "fr"]

    released.clear()
    add_posts(engine, ["noch ein beitrag über die lieferung", "und noch einer"])
    assert score_posts(engine, Settings(), analyzer=analyzer, limit=2, chunk_size=2, progress=False).scored == 2
    assert released == []
