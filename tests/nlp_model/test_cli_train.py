"""`resonanz train` data gathering: files plus review-queue corrections read from the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer

from nlp.errors import TrainingDataError
from resonanz.cli.train import feedback_pairs, gather
from resonanz.core.settings import reset_settings_cache
from store.db import open_engine, session_scope
from store.models import LabelFeedback, Post


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    engine = open_engine(url)
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        posts = [Post(platform="mastodon", external_id=str(i), text=t) for i, t in enumerate(
            ["Bahn schon wieder zu spät", "Danke für die Hilfe!", "Fahrplan ab Montag", "   "])]  # fmt: skip
        s.add_all(posts)
        s.flush()
        ids = [int(p.id or 0) for p in posts]
        rows = [
            (ids[0], "sentiment", "negative", t0),
            (ids[1], "sentiment", "neutral", t0),
            (ids[1], "sentiment", "positive", t0 + timedelta(hours=1)),  # a later correction of the same post wins
            (ids[2], "topic", "Fahrplan", t0),
            (ids[0], "flag", "+offensive", t0),  # a flag added in the queue: OFFENSE for the offensive task
            (ids[1], "flag", "+churn", t0),  # other flags are not offensive-task labels
            (ids[2], "flag", "-offensive", t0),
            (ids[3], "sentiment", "negative", t0),  # empty text: skipped
        ]
        s.add_all([LabelFeedback(post_id=p, field=f, new_value=v, actor="cm", at=at) for p, f, v, at in rows])
    yield url
    reset_settings_cache()


def test_feedback_pairs_latest_correction_wins(db: str) -> None:
    assert sorted(feedback_pairs("sentiment")) == [
        ("Bahn schon wieder zu spät", "negative"), ("Danke für die Hilfe!", "positive"),
    ]  # fmt: skip
    assert sorted(feedback_pairs("offensive")) == [("Bahn schon wieder zu spät", "OFFENSE"),
                                                  ("Fahrplan ab Montag", "OTHER")]  # fmt: skip


def test_gather_files_and_feedback(db: str, tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text("text,label\nSuper Service,positive\nNaja,neutral\n", encoding="utf-8")
    examples, sources = gather("sentiment", [csv], True, False)
    assert [e.label for e in examples] == ["positive", "neutral", "negative", "positive"]
    assert sources[0] == str(csv) and sources[1].startswith("label_feedback (2")
    with pytest.raises(typer.BadParameter, match="Keine Trainingsdaten"):
        gather("sentiment", [], False, False)
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,sehr gut\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad\.csv:2"):
        gather("sentiment", [bad], False, False)


def test_train_command_end_to_end(tiny_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from transformers import AutoModelForSequenceClassification
    from typer.testing import CliRunner

    import nlp.default_model
    from resonanz.cli.train import register

    monkeypatch.setattr(nlp.default_model, "ensure_base_model", lambda cache_dir=None: tiny_base)
    monkeypatch.setenv("RESONANZ_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "posts.csv"
    rows = ["danke super fahrt,positive", "zug schon wieder spät,negative", "bahn heute,neutral"] * 8
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps "train" a sub-command group
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["train", "sentiment", "--data", str(data), "--output", str(out),
                                      "--folds", "2", "--epochs", "2", "--threads", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2-fache Kreuzvalidierung: Mikro-F1" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["cv"]["folds"]) == 2 and metrics["label_counts"] == {"negative": 8, "neutral": 8, "positive": 8}
    model_dirs = [p for p in (out / "build" / "models").iterdir() if p.name.startswith("sentiment-")]
    model = AutoModelForSequenceClassification.from_pretrained(model_dirs[0])
    assert model.config.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    # the hybrid's lexical part is written next to the transformer artefact, with its CV-chosen mix weight
    from nlp.lexical import LexicalModel

    lexical = LexicalModel.load(out / "sentiment.lexical.safetensors")
    assert lexical.labels == ["negative", "neutral", "positive"]
    assert lexical.mix_weight == metrics["lexical"]["mix_weight"]
    assert lexical.predict(["danke super fahrt"]) == ["positive"]

    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,super\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "sentiment", "--data", str(bad), "--output", str(out)])
    assert result.exit_code == 1 and "bad.csv:2" in result.output


def test_train_command_deep(tiny_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--deep``: all-layer LoRA, calibrated, and the built model loads with its temperature."""
    import json

    from typer.testing import CliRunner

    import nlp.default_model
    from nlp.training.artefact import read_artefact_meta
    from resonanz.cli.train import register

    monkeypatch.setattr(nlp.default_model, "ensure_base_model", lambda cache_dir=None: tiny_base)
    monkeypatch.setenv("RESONANZ_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "posts.csv"
    rows = ["danke super fahrt,positive", "zug schon wieder spät,negative", "bahn heute,neutral"] * 20
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["train", "sentiment", "--deep", "--data", str(data), "--output", str(out),
                                      "--epochs", "2", "--threads", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Validierung (" in result.output
    meta = read_artefact_meta(out / "sentiment.safetensors")
    assert meta.n_top == 2 and meta.lora_scale > 0 and meta.train_config["recipe"] == "deep-lora"
    assert meta.calibration["temperature"] > 0 and len(meta.calibration["train_prior"]) == 3
    assert (out / "work" / "checkpoint.pt").is_file()
    assert json.loads((out / "metrics.json").read_text())["label_counts"]["neutral"] == 20
    too_small = tmp_path / "small.csv"
    too_small.write_text("text,label\n" + "\n".join(rows[:9]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "sentiment", "--deep", "--data", str(too_small), "--output", str(out)])
    assert result.exit_code == 1 and "Too little sentiment data for --deep" in result.output
