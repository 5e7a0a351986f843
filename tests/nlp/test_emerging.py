"""Emerging-topic clustering and naming (synthetic embeddings so that the truth is known)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nlp.emerging import class_tfidf, cluster_embeddings, find_topics

THEMES = {
    "netz": ["störung", "netz", "internet", "ausfall"],
    "app": ["app", "update", "absturz", "login"],
    "preis": ["preiserhöhung", "teuer", "euro", "abo"],
}


def make_posts(counts: dict[str, int], seed: int = 0, dim: int = 32) -> tuple[list[str], list[list[str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = {name: rng.normal(size=dim) for name in THEMES}
    texts, lemmas, vectors = [], [], []
    for name, n in counts.items():
        for i in range(n):
            words = [str(w) for w in rng.choice(THEMES[name], size=3, replace=False)] + ["kunde", "heute"]
            texts.append(f"{name} {i}: " + " ".join(words))
            lemmas.append(words)
            v = centres[name] + rng.normal(scale=0.15, size=dim)
            vectors.append(v / np.linalg.norm(v))
    return texts, lemmas, np.asarray(vectors, dtype=np.float32)


def test_clusters_are_found_and_named_by_their_words() -> None:
    texts, lemmas, emb = make_posts({"netz": 12, "app": 8, "preis": 6})
    topics = find_topics(texts, lemmas, emb, min_size=5)
    assert [t.size for t in topics] == [12, 8, 6]
    for topic, theme in zip(topics, ["netz", "app", "preis"], strict=True):
        assert set(topic.words[:3]) <= set(THEMES[theme])  # the shared filler words rank below
        assert all(texts[i].startswith(theme) for i in topic.members)
        assert topic.examples[0] == texts[topic.members[0]]
        assert topic.share == pytest.approx(topic.size / 26, abs=1e-4)


def test_small_clusters_are_dropped() -> None:
    texts, lemmas, emb = make_posts({"netz": 10, "app": 3})
    assert [t.size for t in find_topics(texts, lemmas, emb, min_size=5)] == [10]
    assert find_topics(texts[:3], lemmas[:3], emb[:3], min_size=5) == []


def test_growth_against_a_baseline_and_known_topics() -> None:
    texts, lemmas, emb = make_posts({"netz": 10, "app": 10}, seed=1)
    _, _, before = make_posts({"netz": 18, "app": 2}, seed=1)
    known = [["Netz"] if t.startswith("netz") else [] for t in texts]
    topics = find_topics(texts, lemmas, emb, min_size=5, baseline=before, known=known)
    by_theme = {("netz" if texts[t.members[0]].startswith("netz") else "app"): t for t in topics}
    assert by_theme["app"].growth is not None and by_theme["app"].growth > 3  # 50 % now, 10 % before
    assert by_theme["netz"].growth is not None and by_theme["netz"].growth < 1
    assert topics[0] is by_theme["app"]  # fastest-growing first
    assert by_theme["netz"].known_topics == ["Netz"] and by_theme["app"].known_topics == []
    new = find_topics(texts, lemmas, emb, min_size=5, baseline=before[:0])
    assert all(math.isinf(t.growth or 0) for t in new)
    assert new[0].as_dict()["new"] is True


def test_class_tfidf_prefers_distinctive_words() -> None:
    words = class_tfidf([["a", "a", "x", "x"], ["b", "b", "x", "x"]], top_n=1)
    assert words == [["a"], ["b"]]


def test_kmeans_path_for_large_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    import nlp.emerging

    monkeypatch.setattr(nlp.emerging, "AGGLOMERATIVE_MAX", 10)
    _, _, emb = make_posts({"netz": 20, "app": 20})
    labels = cluster_embeddings(emb)
    assert len(set(labels[:20]) & set(labels[20:])) == 0  # no cluster mixes the two themes


def test_length_mismatch() -> None:
    with pytest.raises(ValueError):
        find_topics(["a"], [], np.zeros((1, 4)))
