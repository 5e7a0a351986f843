"""Flags as classifiers (issue 12): the heads, their file, how they replace keyword flags, and (slow) the
shipped heads on posts the keyword rules got wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp.errors import ModelLoadError, TrainingDataError
from nlp.flag_model import (
    DEFAULT_FILE,
    EXTRA_FEATURES,
    FLAG_CLASSES,
    RULE_FEATURES,
    FlagModel,
    extra_features,
    feature_matrix,
)
from nlp.flags import Flag, FlagRules
from nlp.preprocess import prepare
from nlp.training.flags import read_flag_tsv, train_flag_model


def test_features_and_probabilities_by_hand() -> None:
    assert extra_features("Wo ist mein Paket? https://x.de", {"churn": ["kündigen"]}) == [
        1.0, 0, 0, 0, 0, 0, 1.0, 1.0, 0.0, 0.0
    ]  # fmt: skip
    assert extra_features("Ich werde nicht kündigen.", {})[-2:] == [0.0, 0.0]  # negated
    assert extra_features("Kauf ich bei euch nix mehr.", {})[-2:] == [1.0, 1.0]  # a churn phrase, leaving language
    assert extra_features("Ab jetzt kaufe ich nur noch beim Bäcker.", {})[-2:] == [0.0, 1.0]
    x = feature_matrix(np.array([[0.6, 0.8]]), ["Hallo"], [{}])
    assert (
        x.shape == (1, 2 + EXTRA_FEATURES)
        and len(RULE_FEATURES) + 4 == EXTRA_FEATURES
        and x[0, :2].tolist() == [6.0, 8.0]
    )  # embedding x 10
    k, d = len(FLAG_CLASSES), x.shape[1]
    model = FlagModel(weight=np.zeros((k, d)), bias=np.log([3.0, 1 / 3, 1.0, 1.0, 1.0]), thresholds=np.full(k, 0.5))
    p = model.probabilities(x)[0]
    assert p[:2] == pytest.approx([0.75, 0.25]) and p[2] == pytest.approx(0.5)  # sigmoid(log 3) = 3/4
    assert model.decide(p[None, :])[0].tolist() == [True, False, True, True, True]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    k = len(FLAG_CLASSES)
    model = FlagModel(np.arange(k * 3, dtype=float).reshape(k, 3), np.ones(k), np.full(k, 0.4), meta={"version": "v1"})
    model.save(tmp_path / "f.safetensors")
    back = FlagModel.load(tmp_path / "f.safetensors")
    assert back.version == "v1" and back.classes == FLAG_CLASSES
    assert np.allclose(back.weight, model.weight) and np.allclose(back.thresholds, 0.4)
    (tmp_path / "bad.safetensors").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="Cannot read the flag model"):
        FlagModel.load(tmp_path / "bad.safetensors")
    with pytest.raises(ModelLoadError, match="train one with scripts/train_flags.py"):
        FlagModel.load(tmp_path / "missing.safetensors")


def test_training_reads_labelled_rows_and_reports_cross_validation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("churn\tcomplaint\toffensive\tspam\tquestion\ttext\n1\t0\t0\t0\t2\tHallo\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="bad.tsv:2"):
        read_flag_tsv(bad)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(60, len(FLAG_CLASSES)))
    features = np.hstack([labels * 2.0 + rng.normal(0, 0.3, labels.shape), rng.normal(size=(60, 3))])
    model = train_flag_model(features, labels)
    assert set(model.meta["cv"]) == set(FLAG_CLASSES)
    assert all(v["precision"] > 0.9 and v["recall"] > 0.9 for v in model.meta["cv"].values())  # separable
    assert (model.decide(model.probabilities(features)) == labels.astype(bool)).mean() > 0.95


def test_heads_replace_keyword_churn_but_keep_other_rules() -> None:
    rules = FlagRules.load()
    (post,) = prepare(["DM ist raus. Ich gehe zum Anwalt."], detect_language=False)
    plain = {f.name for f in rules.evaluate(post, 0.1, 0.9)}
    assert {"legal", "offensive"} <= plain  # keyword/threshold flags as before
    head = Flag("complaint", 2, "Beschwerde", ["Ich gehe zum Anwalt."])
    with_model = {f.name for f in rules.evaluate(post, 0.1, 0.9, [head])}
    assert with_model == {"legal", "complaint"}  # no offensive threshold flag, the head decides


@pytest.mark.slow
def test_shipped_flag_branch_reads_posts_the_keywords_got_wrong() -> None:
    from nlp.pipeline import Analyzer

    model = FlagModel.load(DEFAULT_FILE)
    assert model.top_layers >= 1 and model.version.startswith(f"L{model.top_layers}-")
    assert all(v["precision"] >= 0.8 for v in model.meta["cv"].values())  # as trained (cross-validated)
    analyzer = Analyzer.create(detect_language=False, progress=False)
    texts = [
        "DM ist raus.",
        "Der Kaffee war immer gut. Aber nach der dritten falschen Rechnung kündige ich mein Abo.",
        "🔥 GRATIS Gutschein im Wert von 100 € 🔥 Nur heute, hier klicken: https://bit.ly/gratis-kaffee",
        "Halt doch einfach die Fresse, du hirnloser Clown.",
        "Seit drei Wochen kein Internet und keiner ruft zurück. Das ist unzumutbar.",
        "Hat die Filiale in Köln am Samstag geöffnet?",
    ]
    flags = [{f.name: f for f in a.flags} for a in analyzer.analyse(texts)]
    assert "churn" not in flags[0] and not {"complaint", "spam", "offensive"} & set(flags[0])
    assert "churn" in flags[1] and flags[1]["churn"].evidence[0].startswith("Aber nach der dritten")
    assert "spam" in flags[2] and "offensive" in flags[3]
    assert "complaint" in flags[4] and "churn" not in flags[4]
    assert "question" in flags[5] and "complaint" not in flags[5]
    assert f"+flags-{model.version}" in analyzer.version
    trunk = analyzer.trunk
    assert trunk is not None and any("flags" in line.split(":")[0].split("+") for line in trunk.describe())
    # outside the shared trunk (the branch runs alone) the flags are the same; the evidence comes from a pass per
    # piece there, from the post's own pass pooled per piece in the trunk (nlp.pieces)
    alone = Analyzer.create(detect_language=False, progress=False, share_trunk=False)
    alone_flags = [{f.name: f for f in a.flags} for a in alone.analyse(texts)]
    assert [set(f) for f in alone_flags] == [set(f) for f in flags]
    assert alone_flags[1]["churn"].evidence[0] == flags[1]["churn"].evidence[0]


@pytest.mark.slow
def test_flag_branch_needs_the_embedder_it_was_trained_on(caplog: pytest.LogCaptureFixture) -> None:
    from nlp.pipeline import Analyzer

    model = FlagModel.load(DEFAULT_FILE)
    model.meta["embedder"] = "sha-another-model"
    analyzer = Analyzer.create(detect_language=False, progress=False, flag_model=None)
    analyzer.flag_model = model
    with caplog.at_level("WARNING"):
        analyzer.load()
    assert analyzer.flag_model is None and "flag classifiers are off" in caplog.text
    assert "+flags-" not in analyzer.version
