"""The transformer scorer on tiny models that the tests build (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from nlp.errors import LabelMappingError, ModelLoadError
from nlp.scorer import Scorer, SentimentResult, TransformerScorer
from tests.nlp.conftest import WORDS, build_classifier

TEXTS = [
    "die lieferung kam zu spät und das paket war kaputt",
    "super",
    "der preis ist viel zu hoch",
    "ich bin sehr zufrieden mit dem service danke für die schnelle hilfe",
    "app stürzt ab",
    "kündigen vertrag nie wieder",
    "gut",
    "rechnung falsch und die hotline ist geschlossen",
    " ".join(WORDS[:60]),
    "toll",
]


def reference_probabilities(model_dir: Path, texts: list[str]) -> np.ndarray:
    """Each text alone (no padding, no batching), straight through Hugging Face."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    rows = []
    with torch.inference_mode():
        for text in texts:
            logits = model(**tokenizer(text, return_tensors="pt")).logits[0]
            rows.append(torch.softmax(logits, -1).numpy())
    return np.stack(rows)


def as_array(results: list[SentimentResult]) -> np.ndarray:
    return np.array([[r.p_negative, r.p_neutral, r.p_positive] for r in results])


def test_batched_padded_parallel_scores_equal_one_by_one(tiny_sentiment_dir: Path) -> None:
    texts = TEXTS * 7  # 70 texts of very different lengths
    scorer = TransformerScorer(tiny_sentiment_dir, batch_tokens=48, workers=2)
    results = scorer.score(texts)
    stats = scorer.runner.last_stats
    assert stats.batches > 5  # the small budget forced many batches ...
    assert stats.padded_tokens > stats.real_tokens  # ... and some of them were padded
    expected = reference_probabilities(tiny_sentiment_dir, texts)
    np.testing.assert_allclose(as_array(results), expected, atol=2e-5)
    assert [r.label for r in results] == [("negative", "neutral", "positive")[int(i)] for i in expected.argmax(1)]
    assert len({r.label for r in results}) > 1  # the tiny model does tell texts apart


def test_batch_budget_and_worker_count_do_not_change_results(tiny_sentiment_dir: Path) -> None:
    small = TransformerScorer(tiny_sentiment_dir, batch_tokens=20, workers=3).score(TEXTS)
    large = TransformerScorer(tiny_sentiment_dir, batch_tokens=100_000, workers=1).score(TEXTS)
    np.testing.assert_allclose(as_array(small), as_array(large), atol=2e-5)


def test_results_are_in_input_order(tiny_sentiment_dir: Path) -> None:
    scorer = TransformerScorer(tiny_sentiment_dir, batch_tokens=30, workers=2)
    forward = scorer.score(TEXTS)
    backward = scorer.score(TEXTS[::-1])
    assert forward == backward[::-1] or np.allclose(as_array(forward), as_array(backward[::-1]), atol=2e-5)
    single = [scorer.score([t])[0] for t in TEXTS]
    np.testing.assert_allclose(as_array(forward), as_array(single), atol=2e-5)


def test_truncation_to_max_length(tiny_sentiment_dir: Path) -> None:
    scorer = TransformerScorer(tiny_sentiment_dir, max_length=8)
    long_text = " ".join(WORDS[:40])
    scorer.score([long_text])
    assert scorer.runner.last_stats.real_tokens == 8


def test_name_version_protocol_and_empty_input(tiny_sentiment_dir: Path) -> None:
    scorer = TransformerScorer(tiny_sentiment_dir)
    assert isinstance(scorer, Scorer)
    assert scorer.version == "tiny-1"
    assert scorer.name == tiny_sentiment_dir.name
    assert scorer.score([]) == []


def test_label_order_of_the_model_is_respected(tmp_path: Path) -> None:
    # the order used by oliverguhr/german-sentiment-bert
    model_dir = build_classifier(tmp_path / "m", {0: "positive", 1: "negative", 2: "neutral"})
    results = TransformerScorer(model_dir).score(TEXTS)
    raw = reference_probabilities(model_dir, TEXTS)
    np.testing.assert_allclose(as_array(results), raw[:, [1, 2, 0]], atol=2e-5)


def test_star_model_is_mapped_to_three_classes(tmp_path: Path) -> None:
    model_dir = build_classifier(tmp_path / "m", {i: f"{i + 1} stars" for i in range(5)})
    results = TransformerScorer(model_dir).score(TEXTS)
    raw = reference_probabilities(model_dir, TEXTS)
    expected = np.stack([raw[:, :2].sum(1), raw[:, 2], raw[:, 3:].sum(1)], axis=1)
    np.testing.assert_allclose(as_array(results), expected, atol=2e-5)


def test_unmappable_labels_fail_clearly(tmp_path: Path) -> None:
    model_dir = build_classifier(tmp_path / "m", {0: "joy", 1: "anger", 2: "fear"})
    with pytest.raises(LabelMappingError, match="label map"):
        TransformerScorer(model_dir).score(["gut"])
    scorer = TransformerScorer(model_dir, label_map={"joy": "positive", "anger": "negative", "fear": "neutral"})
    assert scorer.score(["gut"])[0].label in {"negative", "neutral", "positive"}


def test_local_model_without_version_gets_a_content_hash(tmp_path: Path) -> None:
    a = build_classifier(tmp_path / "a", {0: "negative", 1: "neutral", 2: "positive"}, seed=1)
    b = build_classifier(tmp_path / "b", {0: "negative", 1: "neutral", 2: "positive"}, seed=2)
    va, vb = TransformerScorer(a).version, TransformerScorer(b).version
    assert va.startswith("sha-") and vb.startswith("sha-")
    assert va != vb


def test_bf16_is_close_and_versioned(tiny_sentiment_dir: Path) -> None:
    fp32 = TransformerScorer(tiny_sentiment_dir)
    bf16 = TransformerScorer(tiny_sentiment_dir, precision="bf16")
    assert bf16.version == "tiny-1+bf16"
    np.testing.assert_allclose(as_array(bf16.score(TEXTS)), as_array(fp32.score(TEXTS)), atol=0.06)


def test_missing_model_fails_with_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # fail fast instead of retrying
    with pytest.raises(ModelLoadError, match="local directory"):
        TransformerScorer("no-such-org/no-such-model-xyz").load()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelLoadError):
        TransformerScorer(broken).load()


def test_auto_precision_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import nlp.runtime
    from nlp.loading import resolve_precision

    monkeypatch.setattr(nlp.runtime, "cpu_supports_bf16", lambda: True)
    assert resolve_precision("auto") == "bf16"
    monkeypatch.setattr(nlp.runtime, "cpu_supports_bf16", lambda: False)
    assert resolve_precision("auto") == "fp32"
    assert resolve_precision("fp32") == "fp32"
    with pytest.raises(ModelLoadError, match="unknown precision 'fp8'"):
        TransformerScorer("default", precision="fp8")


def test_temperature_from_the_config_softens_probabilities_not_labels(tmp_path: Path) -> None:
    from nlp.errors import ModelFileError

    labels = {0: "negative", 1: "neutral", 2: "positive"}
    plain = TransformerScorer(build_classifier(tmp_path / "t1", labels, seed=3))
    warm = TransformerScorer(build_classifier(tmp_path / "t2", labels, seed=3, resonanz_temperature=2.0))
    assert warm.temperature == 2.0 and plain.temperature == 1.0
    logits = plain.logits(TEXTS)
    np.testing.assert_allclose(warm.probabilities(logits), plain.probabilities(logits / 2.0), atol=1e-9)
    assert [r.label for r in warm.score(TEXTS)] == [r.label for r in plain.score(TEXTS)]
    assert as_array(warm.score(TEXTS)).max() < as_array(plain.score(TEXTS)).max()
    broken = TransformerScorer(build_classifier(tmp_path / "t3", labels, seed=3, resonanz_temperature=0.0001))
    with pytest.raises(ModelFileError, match="implausible"):
        broken.load()


def test_train_prior_is_read_from_a_models_config(tmp_path: Path) -> None:
    from nlp.loading import train_prior

    labels = {0: "negative", 1: "neutral", 2: "positive"}
    with_prior = build_classifier(tmp_path / "p", labels, resonanz_train_prior=[0.2, 0.5, 0.3])
    assert train_prior(str(with_prior)) == [0.2, 0.5, 0.3]
    assert train_prior(str(build_classifier(tmp_path / "q", labels))) is None
    assert train_prior(str(build_classifier(tmp_path / "r", labels, resonanz_train_prior=[0.5, 0.5]))) is None
    assert train_prior("no-such-org/no-such-model-xyz") is None


def test_the_retired_general_name_selects_the_default_model() -> None:
    assert TransformerScorer("general").model_spec == "default"
    assert TransformerScorer("germeval").model_spec == "germeval"
