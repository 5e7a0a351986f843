"""The shipped classifiers: size budget, metadata, and (slow) the built directories load and classify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.default_model import (
    GERMEVAL_SENTIMENT_WEIGHTS,
    OFFENSIVE_DEEP_WEIGHTS,
    OFFENSIVE_WEIGHTS,
    SENTIMENT_WEIGHTS,
    WEIGHTS_DIR,
)
from nlp.training.artefact import read_artefact_meta

SHIPPED = [(GERMEVAL_SENTIMENT_WEIGHTS, "sentiment", ["negative", "neutral", "positive"]),
           (OFFENSIVE_WEIGHTS, "offensive", ["OTHER", "OFFENSE"])]  # fmt: skip


def test_weights_fit_the_size_budget() -> None:
    """Each model a user runs is under 10 MB (the issue's budget per task): the default sentiment model,
    the optional older ``germeval`` hybrid (transformer + lexical part), the offensive cascade (the head, its
    lexical part for use without the cascade, the all-layer second model) and the flag model (two fine-tuned top
    layers in fp16 + heads); 27 MB in all (the wheel's model payload)."""
    files = {p.name: p.stat().st_size for p in WEIGHTS_DIR.glob("*.safetensors")}
    models = {
        "default sentiment": files["sentiment-de.safetensors"],
        "germeval sentiment": files["sentiment-germeval.safetensors"] + files["sentiment-germeval.lexical.safetensors"],
        "offensive": files["offensive.safetensors"]
        + files["offensive.lexical.safetensors"]
        + files["offensive-deep.safetensors"],
        "flag model": files["flags-de.safetensors"],
    }
    assert all(0 < size < 10_000_000 for size in models.values()), models
    assert sum(models.values()) == sum(files.values()) < 27_000_000  # nothing else ships


@pytest.mark.parametrize(("path", "task", "labels"), SHIPPED)
def test_shipped_metadata(path: Path, task: str, labels: list[str]) -> None:
    meta = read_artefact_meta(path)
    assert (meta.task, meta.labels, meta.prefix) == (task, labels, "passage: ")
    assert meta.base_sha256.startswith("1571fc98")
    assert len(meta.metrics["cv"]["folds"]) == 5  # the card's numbers come from this 5-fold CV


def test_default_sentiment_metadata() -> None:
    """The default model: LoRA adapters on all 12 layers, calibrated, with its held-out numbers recorded."""
    meta = read_artefact_meta(SENTIMENT_WEIGHTS)
    assert (meta.task, meta.labels, meta.prefix) == ("sentiment", ["negative", "neutral", "positive"], "passage: ")
    assert meta.base_sha256.startswith("1571fc98")
    assert meta.n_top == 12 and meta.lora_scale > 0
    assert 0.5 < meta.calibration["temperature"] < 3.0
    prior = meta.calibration["train_prior"]
    assert len(prior) == 3 and abs(sum(prior) - 1.0) < 1e-3 and min(prior) > 0.15  # no set's prior dominates
    sets = meta.metrics["evaluation"]["sets"]
    assert {"sb10k_dev", "potts_dev", "hotel_dev", "ood90", "demo60", "industries150"} <= set(sets)
    assert meta.train_config["holdout_fold"] in range(5)  # that GermEval 2017 fold was not trained on


def test_offensive_second_model_metadata() -> None:
    """The offensive cascade's second model: LoRA on all 12 layers, trained on all of GermEval 2018 training."""
    meta = read_artefact_meta(OFFENSIVE_DEEP_WEIGHTS)
    assert (meta.task, meta.labels, meta.prefix) == ("offensive", ["OTHER", "OFFENSE"], "passage: ")
    assert meta.base_sha256.startswith("1571fc98") and meta.n_top == 12 and meta.lora_scale > 0
    assert meta.metrics["n_examples"] == 5009  # GermEval 2018 training, all of it
    assert 0.7 < meta.metrics["validation"]["macro_f1"] < 1.0


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for both tasks, so the base model is converted once."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "texts", "expected"),
    [
        ("sentiment", ["Vielen Dank an das super freundliche Zugpersonal, tolle Fahrt!",
                       "Schon wieder 40 Minuten Verspätung und keine Info, eine Frechheit, Deutsche Bahn!"],
         ["positive", "negative"]),
        ("offensive", ["Du bist ein widerlicher, dummer Idiot und solltest die Fresse halten.",
                       "Schönen Sonntag euch allen, wir sehen uns beim Konzert!"],
         ["OFFENSE", "OTHER"]),
    ],
)  # fmt: skip
def test_built_model_classifies(model_cache: Path, task: str, texts: list[str], expected: list[str]) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from nlp.default_model import ensure_offensive_model, ensure_sentiment_model, model_version

    build = ensure_sentiment_model if task == "sentiment" else ensure_offensive_model
    model_dir = build(model_cache)
    config = json.loads((model_dir / "config.json").read_text())
    assert model_version(model_dir) == config["resonanz_model_version"] and len(config["resonanz_model_version"]) == 12
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    enc = tok([config["resonanz_prefix"] + t for t in texts], padding=True, truncation=True,
              max_length=config["resonanz_max_length"], return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        predicted = [model.config.id2label[int(i)] for i in model(**enc).logits.argmax(-1)]
    assert predicted == expected


@pytest.mark.parametrize(("task", "labels"), [("sentiment", ["negative", "neutral", "positive"]),
                                              ("offensive", ["OTHER", "OFFENSE"])])  # fmt: skip
def test_shipped_lexical_models(task: str, labels: list[str]) -> None:
    """The hybrid's lexical parts: metadata, per-model size budget (transformer + lexical < 10 MB), sane output."""
    from nlp.default_model import lexical_model_path
    from nlp.lexical import LexicalModel

    name = "germeval" if task == "sentiment" else "default"  # the default sentiment model has no lexical part
    path = lexical_model_path(task, name)
    assert path is not None, f"the lexical part of the {name} {task} model is not shipped"
    model = LexicalModel.load(path)
    assert model.labels == labels and 0.0 <= model.mix_weight <= 1.0
    assert model.info["task"] == task and "hybrid_nested" in model.info["cv"]
    transformer = GERMEVAL_SENTIMENT_WEIGHTS if task == "sentiment" else OFFENSIVE_WEIGHTS
    assert path.stat().st_size + transformer.stat().st_size < 10_000_000
    texts = {
        "sentiment": ["Vielen Dank an das super freundliche Zugpersonal, tolle Fahrt!",
                      "Schon wieder 40 Minuten Verspätung und keine Info, eine Frechheit, Deutsche Bahn!"],
        "offensive": ["Du bist ein widerlicher, dummer Idiot und solltest die Fresse halten.",
                      "Schönen Sonntag euch allen, wir sehen uns beim Konzert!"],
    }[task]  # fmt: skip
    # the lexical part alone is weak on positives (see the model card); it must at least rank the two texts right
    proba = model.predict_proba(texts)
    first = labels.index("positive" if task == "sentiment" else "OFFENSE")
    assert proba[0, first] > proba[1, first]
    assert model.predict(texts)[1] == ("negative" if task == "sentiment" else "OTHER")
