"""End-to-end LoRA training of all layers (nlp.training.deep) on a tiny random BERT: it learns, it resumes,
and its artefact overlays onto the base like the shipped default model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nlp.training.artefact import ArtefactMeta, overlay_artefact, read_artefact_meta, save_artefact
from nlp.training.deep import DeepConfig, epoch_batches, predict_logits, tokenise, train_deep

POS = ["super gut", "toll und schnell", "danke sehr freundlich", "pünktlich und gut", "sehr toll"]
NEG = ["schlecht und spät", "mies kaputt", "sehr ärgerlich", "zug wieder spät", "dreck und mies"]


def _data(base: Path) -> tuple[object, np.ndarray]:
    texts = (POS + NEG) * 4
    labels = np.array(([1] * len(POS) + [0] * len(NEG)) * 4)
    return tokenise(base, texts, max_length=32), labels


def _config(**kw: object) -> DeepConfig:
    defaults: dict[str, object] = dict(
        lora_rank=4, lora_alpha=8.0, epochs=6, batch_size=8, lr=5e-3, lr_head=5e-3,
        dropout=0.0, label_smoothing=0.0, threads=1, bf16=False, checkpoint_every=3,
    )  # fmt: skip
    defaults.update(kw)
    return DeepConfig(**defaults)  # type: ignore[arg-type]


def test_batches_are_deterministic_per_epoch_and_cover_everything() -> None:
    lengths = np.array([5, 3, 9, 2, 7, 7, 1, 4, 8, 6])
    a, b = epoch_batches(lengths, 3, seed=1, epoch=0), epoch_batches(lengths, 3, seed=1, epoch=0)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert sorted(np.concatenate(a).tolist()) == list(range(10))
    assert [x.tolist() for x in a] != [x.tolist() for x in epoch_batches(lengths, 3, seed=1, epoch=1)]


def test_all_layer_lora_learns_a_separable_task(tiny_base: Path, tmp_path: Path) -> None:
    data, labels = _data(tiny_base)
    config = _config(epochs=30, lr=3e-3, lr_head=3e-3)
    weights = np.ones(len(labels))
    before = _accuracy(tiny_base, data, labels, config, tmp_path / "untrained")
    model = train_deep(tiny_base, data, labels, weights, 2, config, tmp_path / "run")  # type: ignore[arg-type]
    pred = predict_logits(model, data, bf16=False).argmax(1)  # type: ignore[arg-type]
    assert (pred == labels).mean() >= 0.95 > before
    # every layer has adapters; the embeddings and the base matrices stayed frozen
    lora = [n for n, p in model.top.named_parameters() if "lora_A" in n and p.requires_grad]
    assert len(lora) == 6 * model.top.n_top == 12
    assert not any(p.requires_grad for p in model.embeddings.parameters())
    log = [json.loads(line) for line in (tmp_path / "run" / "train.log.jsonl").read_text().splitlines()]
    assert log and log[-1]["step"] == log[-1]["total"]


def _accuracy(base: Path, data: object, labels: np.ndarray, config: DeepConfig, work: Path) -> float:
    model = train_deep(base, data, labels, np.ones(len(labels)), 2, config, work, max_steps=0)  # type: ignore[arg-type]
    return float((predict_logits(model, data, bf16=False).argmax(1) == labels).mean())  # type: ignore[arg-type]


def test_an_interrupted_run_resumes_to_the_same_weights(tiny_base: Path, tmp_path: Path) -> None:
    data, labels = _data(tiny_base)
    config = _config(epochs=2, dropout=0.2)  # dropout: the random state must be resumed too
    weights = np.ones(len(labels))
    straight = train_deep(tiny_base, data, labels, weights, 2, config, tmp_path / "a")  # type: ignore[arg-type]
    train_deep(tiny_base, data, labels, weights, 2, config, tmp_path / "b", max_steps=4)  # type: ignore[arg-type]
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["step"] == 4
    resumed = train_deep(tiny_base, data, labels, weights, 2, config, tmp_path / "b")  # type: ignore[arg-type]
    for (name, a), (_, b) in zip(straight.top.named_parameters(), resumed.top.named_parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), name


def test_a_checkpoint_of_another_configuration_is_refused(tiny_base: Path, tmp_path: Path) -> None:
    data, labels = _data(tiny_base)
    train_deep(tiny_base, data, labels, np.ones(len(labels)), 2, _config(epochs=1), tmp_path, max_steps=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="another configuration"):
        train_deep(tiny_base, data, labels, np.ones(len(labels)), 2, _config(epochs=3), tmp_path)  # type: ignore[arg-type]


def test_the_artefact_overlays_onto_the_base_and_gives_the_same_logits(tiny_base: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    data, labels = _data(tiny_base)
    model = train_deep(tiny_base, data, labels, np.ones(len(labels)), 2, _config(epochs=2), tmp_path / "w")  # type: ignore[arg-type]
    meta = ArtefactMeta(task="sentiment", labels=["negative", "positive"], base_sha256="0" * 64,
                        n_top=model.top.n_top, max_length=32, lora_scale=model.top.lora_scale,
                        calibration={"temperature": 1.5, "train_prior": [0.5, 0.5]})  # fmt: skip
    path = save_artefact(tmp_path / "a.safetensors", model.top, meta)
    assert read_artefact_meta(path).calibration["temperature"] == 1.5
    out = overlay_artefact(tiny_base, path, tmp_path / "dir")
    hf = AutoModelForSequenceClassification.from_pretrained(out).eval()
    assert hf.config.resonanz_temperature == 1.5
    ids = torch.tensor([data.ids[0].tolist()])  # type: ignore[attr-defined]
    with torch.no_grad():
        expected = model(ids, torch.ones_like(ids)).float()
        got = hf(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    # the artefact is fp16: the merged weights differ from the trained ones by rounding only
    assert torch.allclose(got, expected, atol=2e-2), (got, expected)


def _meta(model: object, lora_scale: float) -> ArtefactMeta:
    return ArtefactMeta(task="sentiment", labels=["negative", "positive"], base_sha256="0" * 64,
                        n_top=model.top.n_top, max_length=32, lora_scale=lora_scale)  # type: ignore[attr-defined]  # fmt: skip


def _logits(model_dir: Path, ids: torch.Tensor) -> torch.Tensor:
    from transformers import AutoModelForSequenceClassification

    hf = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return hf(input_ids=ids, attention_mask=torch.ones_like(ids)).logits


def test_a_full_fine_tune_trains_every_matrix_and_its_svd_form_at_full_rank_is_the_same_model(
    tiny_base: Path, tmp_path: Path
) -> None:
    from nlp.training.compress import compress_full_artefact

    data, labels = _data(tiny_base)
    config = _config(lora_rank=0, epochs=20, lr=3e-3, lr_head=3e-3)
    model = train_deep(tiny_base, data, labels, np.ones(len(labels)), 2, config, tmp_path / "run")  # type: ignore[arg-type]
    assert (predict_logits(model, data, bf16=False).argmax(1) == labels).mean() >= 0.95  # type: ignore[arg-type]
    names = [n for n, p in model.top.named_parameters() if p.requires_grad]
    assert "layers.0.attention.self.query.weight" in names and not any("lora" in n for n in names)
    full = save_artefact(tmp_path / "full.safetensors", model.top, _meta(model, 0.0))
    hidden = 32  # tiny_base: hidden 32, intermediate 64 -> every update has rank <= 32
    small = tmp_path / "small.safetensors"
    info = compress_full_artefact(full, tiny_base, hidden, small)
    assert info["energy_kept_min"] > 0.999
    assert "bert.encoder.layer.0.attention.self.query.lora_A" in set(_tensor_names(small))
    ids = torch.tensor([data.ids[0].tolist(), data.ids[7].tolist()[: len(data.ids[0])]])  # type: ignore[attr-defined]
    expected = _logits(overlay_artefact(tiny_base, full, tmp_path / "full_dir"), ids)
    got = _logits(overlay_artefact(tiny_base, small, tmp_path / "small_dir"), ids)
    assert torch.allclose(got, expected, atol=2e-2), (got, expected)
    # a cut to rank 1 is a different (smaller) model: the difference must show
    info1 = compress_full_artefact(full, tiny_base, 1, tmp_path / "r1.safetensors")
    assert info1["energy_kept_mean"] < 0.99 and info1["mb"] < info["mb"]
    with pytest.raises(ValueError, match="LoRA"):
        compress_full_artefact(small, tiny_base, 4, tmp_path / "again.safetensors")


def _tensor_names(path: Path) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return list(fh.keys())


def test_a_checkpoint_resumes_with_another_thread_count(tiny_base: Path, tmp_path: Path) -> None:
    data, labels = _data(tiny_base)
    weights = np.ones(len(labels))
    train_deep(tiny_base, data, labels, weights, 2, _config(epochs=2, threads=1), tmp_path, max_steps=2)  # type: ignore[arg-type]
    model = train_deep(tiny_base, data, labels, weights, 2, _config(epochs=2, threads=2), tmp_path)  # type: ignore[arg-type]
    log = [json.loads(line) for line in (tmp_path / "train.log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == log[-1]["total"] and model is not None
