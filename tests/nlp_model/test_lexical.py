"""The lexical classifier (hashed n-gram TF-IDF + logistic regression, safetensors) and the hybrid mixture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp.errors import ModelFileError, TrainingDataError
from nlp.hybrid import LexicalMixer, LexicalPart
from nlp.lexical import META_KEY, LexicalConfig, LexicalModel, lexical_path_for, lexical_version, mix_probabilities
from nlp.scorer import SentimentResult

NEG = ["Der Zug ist schon wieder zu spät, einfach ärgerlich", "Mies, die Bahn ist kaputt und dreckig",
       "Wieder Verspätung, schlechter Service, furchtbar", "Total schlecht, die Klimaanlage ist kaputt",
       "Ärgerlich: Zug fällt aus, Anschluss verpasst", "Furchtbar dreckige Toiletten, mies",
       "Schon wieder Verspätung, so schlecht", "Kaputte Türen und mieser Service heute"]  # fmt: skip
POS = ["Super Fahrt heute, danke an das freundliche Team", "Toll, der Zug war pünktlich und sauber",
       "Danke für den tollen Service, sehr freundlich", "Pünktlich und super bequem, toll",
       "Sehr freundliches Personal, danke schön", "Super schnell angekommen, toll gemacht",
       "Tolle Fahrt, pünktlich und sauber", "Danke, sehr freundlicher Schaffner, super"]  # fmt: skip
NEU = ["Der Zug fährt um 8 Uhr ab Gleis 3", "Die Bahn veröffentlicht den neuen Fahrplan",
       "Ab Montag gilt der Winterfahrplan", "Der ICE hält in Köln und Frankfurt",
       "Die Strecke wird im Sommer erneuert", "Fahrkarten gibt es am Automaten",
       "Der Regionalexpress verkehrt stündlich", "Neue Verbindung zwischen Berlin und Hamburg"]  # fmt: skip
LABELS = ["negative", "neutral", "positive"]
SMALL = LexicalConfig(n_features=2**14, min_df=1, c=10.0)


def fitted(mix_weight: float = 0.5) -> LexicalModel:
    texts = NEG + NEU + POS
    labels = ["negative"] * len(NEG) + ["neutral"] * len(NEU) + ["positive"] * len(POS)
    return LexicalModel(list(LABELS), SMALL, mix_weight=mix_weight, info={"task": "sentiment"}).fit(texts, labels)


def test_learns_obvious_held_out_examples() -> None:
    model = fitted()
    held_out = ["Mies und ärgerlich, wieder zu spät", "Danke, super freundlich und pünktlich",
                "Der Fahrplan gilt ab Montag"]  # fmt: skip
    assert model.predict(held_out) == ["negative", "positive", "neutral"]
    proba = model.predict_proba(held_out)
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert model.predict_proba([]).shape == (0, 3)


def test_binary_task() -> None:
    texts = NEG + POS
    labels = ["OFFENSE"] * len(NEG) + ["OTHER"] * len(POS)
    model = LexicalModel(["OTHER", "OFFENSE"], SMALL).fit(texts, labels)
    assert model.coef is not None and model.coef.shape[0] == 1
    proba = model.predict_proba(["Mies, kaputt und dreckig", "Danke, super freundlich"])
    assert proba.shape == (2, 2)
    assert proba[0, 1] > 0.5 > proba[1, 1]


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    model = fitted(mix_weight=0.6)
    path = model.save(tmp_path / "sentiment.lexical.safetensors")
    loaded = LexicalModel.load(path)
    texts = ["Der Zug war heute pünktlich, danke", "Alles kaputt", "Neuer Fahrplan ab Montag", "völlig unbekannt xyz"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.labels == LABELS
    assert loaded.config == SMALL
    assert loaded.mix_weight == 0.6
    assert loaded.info == {"task": "sentiment"}
    assert len(lexical_version(path)) == 12
    assert not path.with_name(path.name + ".tmp").exists()


def test_fit_rejects_unknown_labels() -> None:
    with pytest.raises(TrainingDataError, match="Unknown labels"):
        LexicalModel(list(LABELS), SMALL).fit(["a", "b"], ["negative", "happy"])


def test_unfitted_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not fitted"):
        LexicalModel(list(LABELS)).predict_proba(["x"])
    with pytest.raises(ModelFileError, match="unfitted"):
        LexicalModel(list(LABELS)).save(tmp_path / "x.safetensors")


def test_load_errors_are_clear(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    with pytest.raises(ModelFileError, match="does not exist"):
        LexicalModel.load(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ModelFileError, match="not a readable safetensors"):
        LexicalModel.load(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(foreign), metadata={"other": "{}"})
    with pytest.raises(ModelFileError, match="not a Resonanz lexical model"):
        LexicalModel.load(foreign)

    good = fitted().save(tmp_path / "good.safetensors")
    from safetensors.numpy import load_file

    tensors = load_file(str(good))
    meta = fitted().metadata()
    del meta["labels"]
    broken = tmp_path / "no-labels.safetensors"
    save_file(tensors, str(broken), metadata={META_KEY: json.dumps(meta)})
    with pytest.raises(ModelFileError, match="malformed.*labels"):
        LexicalModel.load(broken)
    meta = fitted().metadata()
    truncated = tmp_path / "no-coef.safetensors"
    save_file({k: v for k, v in tensors.items() if k != "coef"}, str(truncated), metadata={META_KEY: json.dumps(meta)})
    with pytest.raises(ModelFileError, match="lacks the tensors.*coef"):
        LexicalModel.load(truncated)
    meta["format_version"] = 99
    future = tmp_path / "future.safetensors"
    save_file(tensors, str(future), metadata={META_KEY: json.dumps(meta)})
    with pytest.raises(ModelFileError, match="format version 99"):
        LexicalModel.load(future)


def test_mix_is_weighted_geometric_mean() -> None:
    pt = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    pl = np.array([[0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])
    w = 0.3
    expected = pt**w * pl ** (1 - w)
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(mix_probabilities(pt, pl, w), expected, rtol=1e-12)
    np.testing.assert_allclose(mix_probabilities(pt, pl, 1.0), pt, rtol=1e-12)
    np.testing.assert_allclose(mix_probabilities(pt, pl, 0.0), pl, rtol=1e-12)
    with pytest.raises(ValueError, match="shapes differ"):
        mix_probabilities(pt, pl[:, :2], 0.5)


def test_mixer_combines_sentiment_and_offensive() -> None:
    sentiment = fitted(mix_weight=0.4)
    texts = NEG + POS
    offensive = LexicalModel(["OTHER", "OFFENSE"], SMALL, mix_weight=0.7).fit(
        texts, ["OFFENSE"] * len(NEG) + ["OTHER"] * len(POS)
    )
    mixer = LexicalMixer(LexicalPart(sentiment, "a" * 12), LexicalPart(offensive, "b" * 12))
    assert mixer.version_suffix == "+aaaaaaaa+off-bbbbbbbb"
    queries = ["Alles kaputt und mies", "Danke, super"]
    transformer = [SentimentResult.from_probabilities(p) for p in ([0.2, 0.5, 0.3], [0.1, 0.6, 0.3])]
    p_off = np.array([0.4, 0.1])
    mixed, mixed_off = mixer.apply(queries, transformer, p_off)
    pl = sentiment.predict_proba(queries)  # label order negative, neutral, positive
    pt = np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])
    expected = mix_probabilities(pt, pl, 0.4)
    got = np.array([[r.p_negative, r.p_neutral, r.p_positive] for r in mixed])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert [r.label for r in mixed] == [LABELS[i] for i in expected.argmax(1)]
    pl_off = offensive.predict_proba(queries)[:, 1]
    expected_off = mix_probabilities(np.stack([1 - p_off, p_off], 1), np.stack([1 - pl_off, pl_off], 1), 0.7)[:, 1]
    assert mixed_off is not None
    np.testing.assert_allclose(mixed_off, expected_off, rtol=1e-6)
    # without a lexical part nothing changes
    plain = LexicalMixer()
    assert plain.version_suffix == ""
    assert plain.apply(queries, transformer, p_off)[0] == transformer


def test_mixer_only_for_default_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import nlp.hybrid as hybrid

    part = LexicalPart(fitted(), "c" * 12)
    asked: list[tuple[str, str]] = []

    def load_part(kind: str, name: str = "default") -> LexicalPart | None:
        asked.append((kind, name))
        return part if kind == "sentiment" else None

    monkeypatch.setattr(hybrid, "load_part", load_part)

    class Spec:
        def __init__(self, spec: str) -> None:
            self.model_spec = spec

    assert LexicalMixer.for_models(Spec("oliverguhr/german-sentiment-bert"), None) is None
    mixer = LexicalMixer.for_models(Spec("default"), Spec("default"))
    assert mixer is not None and mixer.sentiment is part and mixer.offensive is None
    mixer = LexicalMixer.for_models(Spec("germeval"), None)  # the older hybrid keeps its lexical part
    assert mixer is not None and mixer.sentiment is part
    assert LexicalMixer.for_models(Spec("germeval"), Spec("germeval")) is not None
    assert ("sentiment", "germeval") in asked and ("offensive", "germeval") not in asked


def test_lexical_model_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nlp.default_model as dm

    monkeypatch.setattr(dm, "WEIGHTS_DIR", tmp_path)
    assert dm.lexical_model_path("sentiment") is None
    (tmp_path / "sentiment.lexical.safetensors").write_bytes(b"x")
    assert dm.lexical_model_path("sentiment") == tmp_path / "sentiment.lexical.safetensors"
    assert dm.lexical_model_path("sentiment", "germeval") is None
    (tmp_path / "sentiment-germeval.lexical.safetensors").write_bytes(b"x")
    assert dm.lexical_model_path("sentiment", "germeval") == tmp_path / "sentiment-germeval.lexical.safetensors"
    with pytest.raises(ValueError, match="unknown model kind"):
        dm.lexical_model_path("emotion")
    assert lexical_path_for(Path("out/sentiment.safetensors")) == Path("out/sentiment.lexical.safetensors")


def test_class_bias_is_stored_and_applied(tmp_path: Path) -> None:
    model = fitted(mix_weight=0.5)
    model.class_bias = [0.2, 0.0, 0.5]
    loaded = LexicalModel.load(model.save(tmp_path / "b.safetensors"))
    assert loaded.class_bias == [0.2, 0.0, 0.5]
    queries = ["Alles kaputt", "Danke, super"]
    transformer = [SentimentResult.from_probabilities(p) for p in ([0.3, 0.4, 0.3], [0.2, 0.5, 0.3])]
    mixed = LexicalMixer(LexicalPart(loaded, "e" * 12)).mix_sentiment(queries, transformer)
    pt = np.array([[0.3, 0.4, 0.3], [0.2, 0.5, 0.3]])
    z = 0.5 * np.log(pt) + 0.5 * np.log(loaded.predict_proba(queries)) + np.array([0.2, 0.0, 0.5])
    expected = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    got = np.array([[r.p_negative, r.p_neutral, r.p_positive] for r in mixed])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    binary = LexicalModel(["OTHER", "OFFENSE"], SMALL, mix_weight=0.5, class_bias=[0.0, 0.3])
    binary.fit(NEG + POS, ["OFFENSE"] * len(NEG) + ["OTHER"] * len(POS))
    p_off = np.array([0.4])
    out = LexicalMixer(offensive=LexicalPart(binary, "f" * 12)).mix_offensive(["Alles kaputt"], p_off)
    pl = binary.predict_proba(["Alles kaputt"])[0, 1]
    z1 = 0.5 * np.log(0.4) + 0.5 * np.log(pl) + 0.3
    z0 = 0.5 * np.log(0.6) + 0.5 * np.log(1 - pl)
    assert out is not None
    np.testing.assert_allclose(out[0], np.exp(z1) / (np.exp(z0) + np.exp(z1)), rtol=1e-6)


def test_mixer_for_trained_model_directories(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A directory built by ``resonanz train`` carries its lexical part; others get none."""
    from nlp.lexical import LEXICAL_FILENAME

    class Spec:
        def __init__(self, spec: str) -> None:
            self.model_spec = spec

    trained = tmp_path / "trained"
    trained.mkdir()
    fitted(mix_weight=0.7).save(trained / LEXICAL_FILENAME)
    mixer = LexicalMixer.for_models(Spec(str(trained)), None)
    assert mixer is not None and mixer.sentiment is not None and mixer.offensive is None
    assert mixer.sentiment.model.mix_weight == 0.7
    assert mixer.version_suffix == f"+{mixer.sentiment.version[:8]}"
    assert LexicalMixer.for_models(Spec(str(tmp_path)), None) is None  # a directory without the file
    # a sentiment lexical part next to an offensive model does not fit: logged and left off
    assert LexicalMixer.for_models(None, Spec(str(trained))) is None
    assert "do not fit the offensive model" in caplog.text
