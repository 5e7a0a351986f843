from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import Session, col, select

from resonanz.answers.ask import AnswerFilter
from resonanz.answers.emerging import EmergingTopic, emerging_topics, word_frequency, words
from resonanz.core.periods import iso_week
from store.models import Post
from tests.answers.factory import MONDAY, PREV_MONDAY, Factory, Scenario

W47 = iso_week("2026-W47")


def test_words_drop_stopwords_and_short_tokens() -> None:
    assert words("Die Lieferung ist NICHT da, zu spät!") == {"lieferung", "spät"}


def test_word_frequency_ranks_new_terms_over_usual_ones() -> None:
    current = [(1, "Akku leer"), (2, "Akku kaputt"), (3, "Lieferung spät"), (4, "Lieferung wieder spät")]
    baseline = [(9, "Lieferung spät")] * 8
    found = word_frequency(current, baseline, baseline_weeks=4, limit=3)
    assert found[0].label == "akku" and found[0].posts == 2 and found[0].baseline == 0
    assert found[0].example_post_ids == [1, 2]
    assert all(t.label != "leer" for t in found)  # needs at least two posts


def test_few_posts_use_word_frequencies(db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    session, sc = db

    def must_not_run(*args: object) -> list[EmergingTopic]:
        raise AssertionError("clustering three posts is pointless")

    monkeypatch.setattr("resonanz.answers.emerging._from_nlp", must_not_run)
    f = Factory(session)
    for i in range(3):
        f.post(sc.identities["p1"], f"Der Akku hält nicht ({i})", MONDAY + timedelta(hours=i), topics=["App"])
    f.post(sc.identities["p1"], "Lieferung dauert", PREV_MONDAY, topics=["Lieferung"])
    session.commit()
    found = emerging_topics(session, AnswerFilter(period=W47))
    assert found[0].label == "akku" and found[0].posts == 3 and found[0].source == "word-frequency"


def test_enough_posts_use_the_clustering(db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    session, _ = db
    seen: list[Sequence[tuple[int, str]]] = []

    def clustering(current: Sequence[tuple[int, str]], baseline: object, limit: int) -> list[EmergingTopic]:
        seen.append(current)
        return [EmergingTopic("lieferung · spät", len(current), 0.0, ["lieferung"], [current[0][0]], "nlp.emerging")]

    monkeypatch.setattr("resonanz.answers.emerging._from_nlp", clustering)
    monkeypatch.setattr("resonanz.answers.emerging.NLP_MIN_POSTS", 3)
    found = emerging_topics(session, AnswerFilter(period=W47))
    assert len(seen[0]) == 3 and found[0].source == "nlp.emerging"  # the three negative posts of the week


def test_failing_clustering_falls_back(
    db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    session, _ = db

    def broken(*args: object) -> list[EmergingTopic]:
        raise RuntimeError("model files missing")

    monkeypatch.setattr("resonanz.answers.emerging._from_nlp", broken)
    monkeypatch.setattr("resonanz.answers.emerging.NLP_MIN_POSTS", 1)
    found = emerging_topics(session, AnswerFilter(period=W47))
    assert all(t.source == "word-frequency" for t in found)
    assert "model files missing" in caplog.text


class _WordHashEmbedder:
    """Stands in for the e5 model: posts with the same words get the same unit vector."""

    def __init__(self, **kwargs: object) -> None:
        pass

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.encode()) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.mark.slow  # loads the German spaCy pipeline of the NLP area
def test_real_clustering_with_a_stand_in_embedder(
    db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    emerging_mod = pytest.importorskip("nlp.emerging")
    embedder_mod = pytest.importorskip("nlp.embedder")
    if not hasattr(emerging_mod, "find_topics"):
        pytest.skip("nlp.emerging has no find_topics yet")
    monkeypatch.setattr(embedder_mod, "Embedder", _WordHashEmbedder)
    monkeypatch.setattr("resonanz.answers.emerging.NLP_MIN_POSTS", 5)
    session, sc = db
    f = Factory(session)
    for i in range(6):
        f.post(sc.identities["p1"], "Kassensystem Störung Filiale", MONDAY + timedelta(hours=i), topics=["Filiale"])
    session.commit()
    found = emerging_topics(session, AnswerFilter(period=W47))
    assert found and found[0].source == "nlp.emerging" and found[0].posts == 6
    assert "kassensystem" in found[0].label.lower() and found[0].share_growth == math.inf
    cluster_ids = {p.id for p in session.exec(select(Post).where(col(Post.text).startswith("Kassensystem"))).all()}
    assert found[0].example_post_ids and set(found[0].example_post_ids) <= cluster_ids
