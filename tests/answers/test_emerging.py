from __future__ import annotations

import sys
import types
from datetime import timedelta

import pytest
from sqlmodel import Session

from resonanz.answers import AnswerFilter
from resonanz.emerging import emerging_topics, word_frequency, words
from resonanz.periods import iso_week
from tests.answers.factory import MONDAY, PREV_MONDAY, Factory, Scenario


def test_words_drop_stopwords_and_short_tokens() -> None:
    assert words("Die Lieferung ist NICHT da, zu spät!") == {"lieferung", "spät"}


def test_word_frequency_ranks_new_terms_over_usual_ones() -> None:
    current = [(1, "Akku leer"), (2, "Akku kaputt"), (3, "Lieferung spät"), (4, "Lieferung wieder spät")]
    baseline = [(9, "Lieferung spät")] * 8
    found = word_frequency(current, baseline, baseline_weeks=4, limit=3)
    assert found[0].label == "akku" and found[0].posts == 2 and found[0].baseline == 0
    assert found[0].example_post_ids == [1, 2]
    assert all(t.label != "leer" for t in found)  # needs at least two posts


def test_fallback_on_the_database(db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    session, sc = db
    monkeypatch.setitem(sys.modules, "nlp.emerging", None)  # the NLP clustering is not there
    f = Factory(session)
    for i in range(3):
        f.post(sc.identities["p1"], f"Der Akku hält nicht ({i})", MONDAY + timedelta(hours=i), topics=["App"])
    f.post(sc.identities["p1"], "Lieferung dauert", PREV_MONDAY, topics=["Lieferung"])
    session.commit()
    found = emerging_topics(session, AnswerFilter(period=iso_week("2026-W47")))
    assert found[0].label == "akku" and found[0].posts == 3 and found[0].source == "word-frequency"


def test_uses_nlp_emerging_when_available(db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    session, _ = db
    fake = types.ModuleType("nlp.emerging")
    calls = []

    def emerging_topics_impl(texts, baseline, limit, ids):  # type: ignore[no-untyped-def]
        calls.append((texts, ids))
        return [{"label": "Lieferverzug", "size": len(texts), "terms": ["lieferung", "spät"], "example_ids": ids[:1]}]

    fake.emerging_topics = emerging_topics_impl  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nlp.emerging", fake)
    monkeypatch.setattr("nlp.emerging", fake, raising=False)
    found = emerging_topics(session, AnswerFilter(period=iso_week("2026-W47")))
    assert calls and found[0].label == "Lieferverzug" and found[0].source == "nlp.emerging"
    assert found[0].posts == 3  # the three negative posts of the week


def test_broken_nlp_emerging_falls_back(db: tuple[Session, Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    session, _ = db
    fake = types.ModuleType("nlp.emerging")

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("model missing")

    fake.emerging_topics = boom  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nlp.emerging", fake)
    monkeypatch.setattr("nlp.emerging", fake, raising=False)
    found = emerging_topics(session, AnswerFilter(period=iso_week("2026-W47")))
    assert all(t.source == "word-frequency" for t in found)
