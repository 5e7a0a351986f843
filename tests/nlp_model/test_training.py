"""Training code on a tiny random BERT: data loading, a short run that learns, artefact round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nlp.errors import ModelFileError, TrainingDataError
from nlp.lexical import LEXICAL_FILENAME
from nlp.training.artefact import ArtefactMeta, overlay_artefact, read_artefact_meta, save_artefact
from nlp.training.data import from_pairs, load_csv, load_file, load_germeval2017, load_germeval2018
from nlp.training.features import PREFIX, encode_lower
from nlp.training.model import TopModel, load_top_from_base
from nlp.training.trainer import TrainConfig, class_weights, collate, predict_proba, train_top

XML = """<Documents>
  <Document id="a"><relevance>true</relevance><sentiment>negative</sentiment>
    <text>Zug schon wieder sp&#228;t</text></Document>
  <Document id="b"><sentiment>positive</sentiment><text>Danke, super Fahrt</text></Document>
  <Document id="c"><sentiment>neutral</sentiment><text>  Bahn   heute </text></Document>
</Documents>"""


def test_load_csv_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('text,label,extra\n"Super, danke",POS,x\nZug kaputt,negative,y\nBahn,Neutral,z\n', encoding="utf-8")
    examples = load_file(path, "sentiment")
    assert [(e.text, e.label) for e in examples] == [
        ("Super, danke", "positive"), ("Zug kaputt", "negative"), ("Bahn", "neutral"),
    ]  # fmt: skip


def test_csv_bad_label_names_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\ngut,positive\nschlecht,furchtbar\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"d\.csv:3.*'furchtbar'"):
        load_csv(path, "sentiment")
    kept = load_csv(path, "sentiment", skip_bad=True)
    assert [e.text for e in kept] == ["gut"]


def test_csv_missing_columns_and_empty_text(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("message,sentiment\nx,positive\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="'text' and 'label'"):
        load_csv(path, "sentiment")
    path.write_text('text,label\n"  ",positive\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r":2: empty text"):
        load_csv(path, "sentiment")


def test_germeval_xml(tmp_path: Path) -> None:
    path = tmp_path / "g.xml"
    path.write_text(XML, encoding="utf-8")
    examples = load_germeval2017(path)
    assert [(e.text, e.label) for e in examples] == [
        ("Zug schon wieder spät", "negative"), ("Danke, super Fahrt", "positive"), ("Bahn heute", "neutral"),
    ]  # fmt: skip
    path.write_text(XML.replace("</Documents>", ""), encoding="utf-8")
    with pytest.raises(TrainingDataError, match="malformed XML"):
        load_germeval2017(path)
    path.write_text(XML.replace("<sentiment>neutral</sentiment>", ""), encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"document 3 \(c\)"):
        load_germeval2017(path)


def test_germeval2018_tsv_and_pairs(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("du idiot\tOFFENSE\tINSULT\nschöner tag\tOTHER\tOTHER\n", encoding="utf-8")
    assert [e.label for e in load_germeval2018(path)] == ["OFFENSE", "OTHER"]
    path.write_text("kein tab hier\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"t\.txt:1.*no tab"):
        load_germeval2018(path)
    assert from_pairs([("gut", "positive")], "sentiment")[0].label == "positive"
    with pytest.raises(TrainingDataError, match="feedback row 1"):
        from_pairs([("gut", "toll")], "sentiment")


def _toy_data() -> tuple[list[str], np.ndarray]:
    pos = ["danke super fahrt", "toll und pünktlich", "sehr freundlich danke", "gut und schnell", "super zug heute"]
    neg = ["zug schon wieder spät", "bahn ist kaputt", "mies und ärgerlich", "sehr schlecht heute", "dreck bahn spät"]
    texts = (pos + neg) * 4
    return texts, np.array(([1] * 5 + [0] * 5) * 4)


@pytest.mark.parametrize("bf16", [False, True])
def test_short_training_run_reduces_loss(tiny_base: Path, tmp_path: Path, bf16: bool) -> None:
    """Also under bfloat16 autocast (``TrainConfig.bf16``; emulated where the CPU lacks native bf16)."""
    texts, y = _toy_data()
    model = load_top_from_base(str(tiny_base), 1, 2, dropout=0.0)
    cache = encode_lower(tiny_base, texts, model.first_layer, 32, cache_dir=tmp_path / "f")
    assert len(cache) == len(texts) and cache.tokens.dtype == np.float16
    again = encode_lower(tiny_base, texts, model.first_layer, 32, cache_dir=tmp_path / "f")  # from the disk cache
    np.testing.assert_array_equal(np.asarray(again.tokens), np.asarray(cache.tokens))

    def loss_of(m: TopModel) -> float:
        hidden, mask = collate(cache, np.arange(len(texts)))
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(m(hidden, mask), torch.from_numpy(y)))

    before = loss_of(model)
    config = TrainConfig(max_epochs=12, patience=12, batch_size=8, lr_layers=1e-2, lr_head=1e-2, val_fraction=0.2,
                         class_weight_power=0.0, dropout=0.0, threads=1, warmup=0.0, bf16=bf16)  # fmt: skip
    result = train_top(lambda: load_top_from_base(str(tiny_base), 1, 2, dropout=0.0), cache, y, config)
    after = loss_of(result.model)
    assert after < before * 0.7, (before, after)
    assert result.history and result.best_epoch >= 1
    assert all(p.dtype == torch.float32 for p in result.model.parameters())  # autocast: weights stay fp32
    acc = (predict_proba(result.model, cache, bf16=bf16).argmax(1) == y).mean()
    assert acc >= 0.8


def test_class_weights_favour_rare_class() -> None:
    w = class_weights(np.array([0] * 90 + [1] * 10), 2, 0.5)
    assert w[1] / w[0] == pytest.approx(3.0)
    assert float(class_weights(np.array([0, 1]), 2, 0.0)[0]) == pytest.approx(1.0)


@pytest.mark.parametrize("lora_rank", [0, 4])
def test_artefact_round_trip_and_overlay(tiny_base: Path, tmp_path: Path, lora_rank: int) -> None:
    from safetensors import safe_open
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(1)
    model = load_top_from_base(str(tiny_base), 2 if lora_rank else 1, 3)
    if lora_rank:
        model.enable_lora(lora_rank, 8.0)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:  # frozen LoRA base matrices must stay equal to the base model's
                p.add_(torch.randn_like(p) * 0.05)  # differ from the base so the overlay is observable
    model.eval()
    meta = ArtefactMeta(task="sentiment", labels=["negative", "neutral", "positive"], base_sha256="0" * 64, n_top=1,
                        max_length=32, metrics={"cv": {"mean_micro_f1": 0.5}}, lora_scale=model.lora_scale)  # fmt: skip
    path = save_artefact(tmp_path / "w.safetensors", model, meta)
    assert read_artefact_meta(path) == meta
    with safe_open(str(path), framework="pt") as fh:
        names = set(fh.keys())
    assert ("bert.encoder.layer.0.attention.self.query.lora_A" in names) == bool(lora_rank)
    assert ("bert.encoder.layer.1.intermediate.dense.weight" in names) == (not lora_rank)  # frozen W not shipped

    assert not (overlay_artefact(tiny_base, path, tmp_path / "plain") / LEXICAL_FILENAME).exists()
    (tmp_path / "w.lexical.safetensors").write_bytes(b"lexical part")  # written by train_task beside the weights
    out = overlay_artefact(tiny_base, path, tmp_path / "clf")
    assert (out / LEXICAL_FILENAME).read_bytes() == b"lexical part"  # travels with the model directory
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    assert len(config["resonanz_model_version"]) == 12
    hf = AutoModelForSequenceClassification.from_pretrained(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    texts = ["danke super fahrt", "zug schon wieder spät und kaputt"]
    cache = encode_lower(tiny_base, texts, model.first_layer, 32)
    enc = tok([PREFIX + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hf_logits = hf(**enc).logits
        hidden, mask = collate(cache, np.arange(2))
        ours = model(hidden, mask)
    torch.testing.assert_close(hf_logits, ours, atol=5e-3, rtol=1e-2)  # fp16 artefact + fp16 cache


def test_bad_artefact_files(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"not safetensors")
    with pytest.raises(ModelFileError, match="not a readable safetensors"):
        read_artefact_meta(path)
    from safetensors.torch import save_file

    save_file({"a": torch.zeros(1)}, str(path))
    with pytest.raises(ModelFileError, match="not a resonanz model artefact"):
        read_artefact_meta(path)


def test_cross_validation_resumes_from_checkpoints(tiny_base: Path, tmp_path: Path) -> None:
    from nlp.training.trainer import cross_validate

    texts, y = _toy_data()
    cache = encode_lower(tiny_base, texts, 1, 32)
    config = TrainConfig(max_epochs=1, patience=1, batch_size=8, val_fraction=0.2, threads=1)
    trained: list[int] = []

    def make() -> TopModel:
        trained.append(1)
        return load_top_from_base(str(tiny_base), 1, 2)

    first = cross_validate(make, cache, y, config, 2, checkpoint_dir=tmp_path)
    assert len(trained) == 2 and len(list(tmp_path.glob("cv-*-fold*.json"))) == 2
    (next(iter(sorted(tmp_path.glob("cv-*-fold2.json"))))).unlink()  # as if interrupted during fold 2
    second = cross_validate(make, cache, y, config, 2, checkpoint_dir=tmp_path)
    assert len(trained) == 3  # only fold 2 was trained again
    assert second["folds"] == first["folds"]  # fold 1 reused verbatim; fold 2 retrained identically (seeded)


def test_uniform_attention_init_pools_by_mean(tiny_base: Path) -> None:
    from nlp.training.model import init_uniform_attention

    model = load_top_from_base(str(tiny_base), 1, 2, dropout=0.0).eval()
    layer: torch.nn.Module = model.layers[-1]
    torch.manual_seed(3)
    hidden = torch.randn(1, 5, model.config.hidden_size) * 3
    averaged = hidden.clone()
    averaged[:, 1:3] = hidden[:, 1:3].mean(1, keepdim=True)  # same first token, same mean over all tokens
    no_mask = torch.zeros(1, 1, 1, 5)

    def first_token(x: torch.Tensor) -> torch.Tensor:
        return layer(x, attention_mask=no_mask)[:, 0]

    with torch.no_grad():
        query: Any = layer.get_submodule("attention.self.query")
        query.weight.mul_(50)  # clearly non-uniform attention
        assert not torch.allclose(first_token(hidden), first_token(averaged), atol=1e-3)
        init_uniform_attention(model)  # the first token now sees only the mean of the (linear) values
        torch.testing.assert_close(first_token(hidden), first_token(averaged))
