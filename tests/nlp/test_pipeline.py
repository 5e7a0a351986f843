"""The Analyzer on tiny models that share their lower layer, like the shipped defaults."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertModel

from nlp.embedder import Embedder
from nlp.flags import FlagRules
from nlp.offensive import OffensiveClassifier
from nlp.pipeline import Analyzer
from nlp.scorer import SentimentResult, TransformerScorer
from nlp.topics import TopicModel

TEXTS = [
    "die lieferung kam zu spät und das paket war kaputt 😡",
    "super danke für die schnelle hilfe",
    "ich will kündigen nie wieder",
    "der preis ist viel zu hoch",
    "",
    "app stürzt ab @user https://example.de",
    "gut",
] * 3


def analyzer(family: dict[str, Path], share: bool, **kwargs: object) -> Analyzer:
    opts = {"batch_tokens": 64, "workers": 2, "progress": False}
    return Analyzer(
        TransformerScorer(family["sentiment"], **opts),  # type: ignore[arg-type]
        offensive=OffensiveClassifier(family["offensive"], **opts),  # type: ignore[arg-type]
        embedder=Embedder(family["encoder"], **opts),  # type: ignore[arg-type]
        share_trunk=share,
        **kwargs,  # type: ignore[arg-type]
    )


def test_shared_trunk_layout(tiny_family: dict[str, Path]) -> None:
    a = analyzer(tiny_family, share=True)
    trunk = a.trunk
    assert trunk is not None
    assert trunk.describe() == [
        "sentiment+offensive+embedding: layers 0-0",
        "sentiment: layers 1-1",
        "offensive: layers 1-1",
        "embedding: layers 1-1",
    ]
    assert trunk.layer_passes == 4  # instead of 6
    assert analyzer(tiny_family, share=False).trunk is None


def test_shared_pass_equals_separate_models(tiny_family: dict[str, Path]) -> None:
    shared = analyzer(tiny_family, share=True, keep_embeddings=True).analyse(TEXTS)
    separate = analyzer(tiny_family, share=False, keep_embeddings=True).analyse(TEXTS)
    assert len(shared) == len(separate) == len(TEXTS)
    for x, y in zip(shared, separate, strict=True):
        assert x.p_offensive is not None and y.p_offensive is not None
        np.testing.assert_allclose(
            [x.sentiment.p_negative, x.sentiment.p_neutral, x.sentiment.p_positive, x.p_offensive],
            [y.sentiment.p_negative, y.sentiment.p_neutral, y.sentiment.p_positive, y.p_offensive],
            atol=1e-5,
        )
        assert x.embedding is not None and y.embedding is not None
        np.testing.assert_allclose(x.embedding, y.embedding, atol=1e-5)
        assert x.topics == y.topics and x.flags == y.flags and x.language == y.language


def test_outputs_equal_hugging_face_reference(tiny_family: dict[str, Path]) -> None:
    """Each model alone through plain transformers, one text at a time, with the e5 'passage: ' prefix."""
    results = analyzer(tiny_family, share=True, keep_embeddings=True).analyse(TEXTS[:7])
    tok = AutoTokenizer.from_pretrained(tiny_family["sentiment"])
    sent = AutoModelForSequenceClassification.from_pretrained(tiny_family["sentiment"]).eval()
    off = AutoModelForSequenceClassification.from_pretrained(tiny_family["offensive"]).eval()
    enc = BertModel.from_pretrained(tiny_family["encoder"]).eval()
    from nlp.preprocess import prepare

    prepared = prepare(TEXTS[:7], detect_language=False)
    with torch.inference_mode():
        for result, post in zip(results, prepared, strict=True):
            inputs = tok("passage: " + post.model_text, return_tensors="pt")
            p_sent = torch.softmax(sent(**inputs).logits[0], -1).numpy()
            p_off = torch.softmax(off(**inputs).logits[0], -1).numpy()[1]
            emb = enc(**inputs).last_hidden_state[0].mean(0)
            emb = (emb / emb.norm()).numpy()
            s = result.sentiment
            np.testing.assert_allclose([s.p_negative, s.p_neutral, s.p_positive], p_sent, atol=1e-5)
            assert result.p_offensive == pytest.approx(float(p_off), abs=1e-5)
            assert result.embedding is not None
            np.testing.assert_allclose(result.embedding, emb, atol=1e-5)


def test_analysis_content_and_order(tiny_family: dict[str, Path]) -> None:
    a = analyzer(tiny_family, share=True)
    results = a.analyse(TEXTS)
    assert [r.text for r in results] == TEXTS
    churn = results[2]
    assert "churn" in [f["flag"] for f in churn.as_dict()["flags"]]
    assert [t.name for t in results[0].topics][:1] == ["Lieferung"]
    d = results[0].as_dict()
    assert set(d) == {"language", "label", "p_negative", "p_neutral", "p_positive", "p_offensive", "topics", "flags"}
    assert d["label"] in {"negative", "neutral", "positive"}
    assert abs(d["p_negative"] + d["p_neutral"] + d["p_positive"] - 1) < 1e-5
    assert a.name == tiny_family["sentiment"].name and a.version == "fam-s-1"
    assert a.analyse([]) == []


def test_unavailable_optional_models_are_dropped(
    tiny_family: dict[str, Path], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    missing = tmp_path / "missing"
    missing.mkdir()
    a = Analyzer(
        TransformerScorer(tiny_family["sentiment"], progress=False),
        offensive=OffensiveClassifier(missing),
        embedder=Embedder(missing),
    )
    with caplog.at_level(logging.WARNING):
        results = a.analyse(["ich will kündigen"])
    assert a.offensive is None and a.embedder is None and a.trunk is None
    assert results[0].p_offensive is None
    assert "offensive-language flags are off" in caplog.text


class LengthScorer:
    """A deliberately simple Scorer (not a model): long texts negative. Exercises the protocol path only."""

    name = "length"
    version = "1"

    def score(self, texts: Sequence[str]) -> list[SentimentResult]:
        return [SentimentResult.from_probabilities([1.0, 0.0, 0.0] if len(t) > 20 else [0.0, 0.0, 1.0]) for t in texts]


def test_any_scorer_can_drive_the_analyzer() -> None:
    a = Analyzer(LengthScorer(), topics=TopicModel.load(), flags=FlagRules.load(), detect_language=False)
    results = a.analyse(["Die Lieferung ist seit Wochen nicht da", "Top!"])
    assert [r.label for r in results] == ["negative", "positive"]
    assert "strongly_negative" in [f.name for f in results[0].flags]
    assert a.name == "length" and a.trunk is None


def test_lexical_hybrid_is_mixed_in_and_versioned(
    tiny_family: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp.hybrid import LexicalMixer, LexicalPart
    from nlp.lexical import LexicalConfig, LexicalModel, mix_probabilities

    neg = ["alles kaputt und mies", "nie wieder so ein mist", "schlecht schlecht schlecht"] * 3
    pos = ["danke super service", "toll gemacht danke", "sehr gut und schnell"] * 3
    lexical = LexicalModel(["negative", "neutral", "positive"], LexicalConfig(), mix_weight=0.4).fit(
        neg + pos + ["die filiale hat offen"] * 3, ["negative"] * 9 + ["positive"] * 9 + ["neutral"] * 3
    )
    mixer = LexicalMixer(LexicalPart(lexical, "d" * 12))
    monkeypatch.setattr(LexicalMixer, "for_models", classmethod(lambda cls, scorer, offensive: mixer))
    hybrid = analyzer(tiny_family, share=True)
    hybrid.load()
    monkeypatch.undo()
    plain = analyzer(tiny_family, share=True)
    texts = ["alles kaputt und mies 😡", "danke super service"]
    mixed, alone = hybrid.analyse(texts), plain.analyse(texts)
    assert hybrid.version == "fam-s-1+dddddddd" and plain.version == "fam-s-1"
    p_t = np.array([[a.sentiment.p_negative, a.sentiment.p_neutral, a.sentiment.p_positive] for a in alone])
    expected = mix_probabilities(p_t, lexical.predict_proba(texts), 0.4)  # the lexical part sees the original texts
    got = np.array([[m.sentiment.p_negative, m.sentiment.p_neutral, m.sentiment.p_positive] for m in mixed])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_one_tensor_is_the_same_embedding_without_reading_it() -> None:
    """The shared trunk takes views of one memory for the same weights without comparing the values (which would
    read a memory-mapped embedding matrix into memory whole): NaN, unequal to itself, shows no value was read."""
    from nlp.trunk import _same_tensor

    word = torch.full((4, 3), float("nan"))
    assert _same_tensor(word, word.detach())
    assert not _same_tensor(word, word.clone())  # a copy is compared by value (NaN != NaN)
    assert _same_tensor(torch.ones(4, 3), torch.ones(4, 3))
    assert not _same_tensor(torch.ones(4, 3), torch.ones(3, 4))
