"""The flag branch (issue 12) on a tiny random BERT: training learns, the artefact round-trips, and the
Analyzer's way of running it (a FastBert branch in the shared trunk) computes what training computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nlp.errors import ModelLoadError
from nlp.fast_bert import FastBert
from nlp.flag_model import FLAG_CLASSES, FlagModel, extra_features, feature_matrix
from nlp.training.features import PREFIX, encode_lower
from nlp.training.flag_layer import (
    FlagData,
    FlagLayerConfig,
    FlagTop,
    cross_validate,
    cv_scores,
    load_flag_top,
    predict,
    to_flag_model,
    train_flag_layer,
)
from nlp.trunk import MAX_PIECES, MEAN, PIECES, SharedTrunk

CHURN, SPAM = "kaputt mies", "super toll danke"


def _data() -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    filler = ["die bahn ist heute", "der zug war", "das ist sehr", "und morgen wieder", "die fahrt war"]
    texts, labels = [], []
    for i in range(40):
        row = np.zeros(len(FLAG_CLASSES), dtype=np.int64)
        text = filler[i % len(filler)]
        if i % 2:
            text, row[0] = f"{text} {CHURN}", 1
        if i % 3 == 0:
            text, row[3] = f"{SPAM} {text}", 1
        texts.append(f"{text} {'gut' if rng.random() < 0.5 else 'spät'}")
        labels.append(row)
    return texts, np.array(labels)


def test_branch_learns_round_trips_and_runs_in_the_trunk(tiny_base: Path, tmp_path: Path) -> None:
    texts, labels = _data()
    extra = np.array([extra_features(t, {}) for t in texts])
    cache = encode_lower(tiny_base, texts, 1, 32)
    config = FlagLayerConfig(
        top_layers=1, epochs=8, lr_layers=1e-3, lr_head=1e-2, batch_size=8, warm_start_c=1.0, threads=1
    )

    def make() -> FlagTop:
        return load_flag_top(tiny_base, 1, dropout=0.0)

    data = FlagData(cache, labels, extra)
    trained = train_flag_layer(make, *data.rows(np.arange(len(texts))), config)
    p_train = predict(trained, cache, extra)
    assert ((p_train[:, [0, 3]] >= 0.5) == labels[:, [0, 3]].astype(bool)).mean() > 0.9
    untouched = load_flag_top(tiny_base, 1)
    assert not torch.equal(trained.layers[0].output.dense.weight, untouched.layers[0].output.dense.weight)
    with torch.no_grad():  # the tiny base starts with zero biases: give every bias a value the conversion must carry
        for name, param in trained.layers.named_parameters():
            if name.endswith("bias"):
                param.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(len(name)))
    p_train = predict(trained, cache, extra)

    model = to_flag_model(trained, np.full(len(FLAG_CLASSES), 0.5), {"embedder": "tiny"})
    model.save(tmp_path / "flags.safetensors")
    back = FlagModel.load(tmp_path / "flags.safetensors")
    assert back.top_layers == 1 and back.first_layer == 1 and back.version == model.version
    assert back.version.startswith("L1-")

    from transformers import AutoTokenizer, BertModel

    base = FastBert(BertModel.from_pretrained(tiny_base))
    branch = back.branch(base)
    assert branch.layers[0] is base.layers[0] and branch.word is base.word  # the shared part: the same tensors
    assert not branch.layers[1].same_as(base.layers[1])
    tok = AutoTokenizer.from_pretrained(tiny_base)
    enc = tok([PREFIX + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        alone = branch.embed_texts(enc["input_ids"], enc["attention_mask"])
        trunk = SharedTrunk({"embedding": base, "flags": branch}, {"embedding": MEAN, "flags": MEAN})
        embedding, shared = trunk(enc["input_ids"], enc["attention_mask"])
    assert trunk.layer_passes == 3  # layer 0 once, then layer 1 for each
    assert torch.allclose(shared, alone, atol=1e-5)
    assert torch.allclose(embedding, base.embed_texts(enc["input_ids"], enc["attention_mask"]), atol=1e-5)
    # the branch's states pooled per piece in the same pass (nlp.pieces): one model under two names runs once
    segments = torch.zeros_like(enc["input_ids"])
    segments[:, 1:3], segments[:, 3:5] = 1, 2
    with torch.inference_mode():
        both = SharedTrunk({"flags": branch, "flag_pieces": branch}, {"flags": MEAN, "flag_pieces": PIECES})
        mean, pieces = both(enc["input_ids"], enc["attention_mask"], segments)
        states = branch.run_layers(
            branch.embed(enc["input_ids"]), branch.attention_bias(enc["attention_mask"]), 0, branch.num_layers
        )
    assert both.layer_passes == 2 and torch.allclose(mean, alone, atol=1e-5)
    assert pieces.shape == (len(texts), MAX_PIECES, branch.hidden)
    assert torch.allclose(pieces, branch.segment_pool(states, segments, MAX_PIECES), atol=1e-6)
    second = torch.nn.functional.normalize(states.view(len(texts), -1, branch.hidden)[:, 3:5].mean(1), dim=-1)
    assert torch.allclose(pieces[:, 1], second, atol=1e-5) and not pieces[:, 2].any()
    with torch.inference_mode():  # what training's heads read, text by text
        states = [torch.from_numpy(cache.get(i).astype(np.float32))[None] for i in range(len(texts))]
        pooled = [trained.pooled(h, torch.ones(1, h.shape[1])) for h in states]
    assert torch.allclose(shared * 10.0, torch.cat(pooled), atol=0.05)  # fp16 storage, nothing else
    p_infer = back.probabilities(feature_matrix(shared.numpy(), texts, [{}] * len(texts)))
    assert np.abs(p_infer - p_train).max() < 0.02


def test_weak_negatives_count_for_churn_only_and_cv(tiny_base: Path) -> None:
    texts, labels = _data()
    extra = np.array([extra_features(t, {}) for t in texts])
    weak_texts = ["das ist mies", "der zug war kaputt"]
    data = FlagData(
        encode_lower(tiny_base, texts, 1, 32), labels, extra,
        encode_lower(tiny_base, weak_texts, 1, 32), np.zeros((2, extra.shape[1])),
    )  # fmt: skip
    cache, y, weights, x = data.rows(np.arange(5))
    assert len(cache) == 7 and y[5:].sum() == 0 and x.shape == (7, extra.shape[1])
    assert weights[:5].min() == 1 and weights[5:].tolist() == [[1, 0, 0, 0, 0]] * 2
    config = FlagLayerConfig(top_layers=1, epochs=1, threads=1)
    oof = cross_validate(lambda: load_flag_top(tiny_base, 1), data, config)
    assert oof.shape == labels.shape and (oof > 0).all()
    scores = cv_scores(oof, labels, extra, np.full(len(FLAG_CLASSES), 0.5))
    assert scores["churn"]["positives"] == int(labels[:, 0].sum())


def test_branch_refuses_another_encoder(tiny_base: Path, tmp_path: Path) -> None:
    from transformers import BertModel

    trained = load_flag_top(tiny_base, 1)
    model = to_flag_model(trained, np.full(len(FLAG_CLASSES), 0.5), {})
    base = FastBert(BertModel.from_pretrained(tiny_base))
    base.layers = base.layers + base.layers  # a deeper encoder: layer 1 is no longer its top layer
    with pytest.raises(ModelLoadError, match="retrain it"):
        model.branch(base)
    heads_only = FlagModel(np.zeros((5, 3)), np.zeros(5), np.full(5, 0.5))
    assert heads_only.top_layers == 0
    with pytest.raises(ModelLoadError, match="no fine-tuned layers"):
        heads_only.branch(base)
