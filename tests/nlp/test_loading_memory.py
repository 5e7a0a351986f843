"""Loading several models keeps one copy of what they share: the tokenizer of identical tokenizer files and
bit-identical weight tensors (nlp.loading), without changing a single weight."""

from __future__ import annotations

import gc
import shutil
import weakref
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoModelForSequenceClassification

from nlp import loading
from nlp.embedder import Embedder
from nlp.loading import load_classifier, load_encoder
from nlp.offensive import OffensiveClassifier
from nlp.scorer import TransformerScorer

from .conftest import build_tokenizer


def test_models_from_the_same_tokenizer_files_share_one_tokenizer(tiny_family: dict[str, Path], tmp_path: Path) -> None:
    scorer = TransformerScorer(tiny_family["sentiment"], progress=False)
    offensive = OffensiveClassifier(tiny_family["offensive"], progress=False)
    embedder = Embedder(tiny_family["encoder"], progress=False)
    assert scorer.tokenizer is offensive.tokenizer is embedder.runner.tokenizer

    other = tmp_path / "other"
    shutil.copytree(tiny_family["sentiment"], other)
    tokenizer = build_tokenizer(other)
    tokenizer.add_tokens(["zugausfall"])
    tokenizer.save_pretrained(other)
    assert TransformerScorer(other, progress=False).tokenizer is not scorer.tokenizer


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_identical_weights_are_one_tensor_and_every_weight_is_unchanged(
    tiny_family: dict[str, Path], precision: str
) -> None:
    sentiment = load_classifier(str(tiny_family["sentiment"]), precision=precision).model
    offensive = load_classifier(str(tiny_family["offensive"]), kind="offensive", precision=precision).model
    encoder = load_encoder(str(tiny_family["encoder"]), precision=precision).model

    def ptr(model: torch.nn.Module, name: str) -> int:
        return int(model.get_parameter(name).data_ptr())

    for name in ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"):
        assert ptr(sentiment, f"bert.{name}") == ptr(offensive, f"bert.{name}") == ptr(encoder, name)
    top = "encoder.layer.1.attention.self.query.weight"  # each classifier has its own top layer
    assert len({ptr(sentiment, f"bert.{top}"), ptr(offensive, f"bert.{top}"), ptr(encoder, top)}) == 3

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    for model, directory, auto in (
        (sentiment, tiny_family["sentiment"], AutoModelForSequenceClassification),
        (offensive, tiny_family["offensive"], AutoModelForSequenceClassification),
        (encoder, tiny_family["encoder"], AutoModel),
    ):
        plain = auto.from_pretrained(directory).to(dtype).state_dict()  # the usual load, converted after
        ours = model.state_dict()
        assert ours.keys() == plain.keys()
        in_file = load_file(str(directory / "model.safetensors")).keys()  # not the encoder's new random pooler
        assert all(ours[k].dtype == plain[k].dtype and torch.equal(ours[k], plain[k]) for k in in_file)
        assert type(model) is type(auto.from_pretrained(directory))
        assert not model.training


def test_a_tensor_that_differs_only_late_gets_its_own_copy(
    tiny_family: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in small pieces, a tensor equal to a loaded one up to its last piece is not shared, and is exact."""
    monkeypatch.setattr(loading, "READ_CHUNK_BYTES", 64)
    encoder = load_encoder(str(tiny_family["encoder"]), precision="bf16").model
    changed = tmp_path / "changed"
    shutil.copytree(tiny_family["encoder"], changed)
    tensors = load_file(str(changed / "model.safetensors"))
    tensors["embeddings.word_embeddings.weight"][-1, -1] += 1.0
    save_file(tensors, str(changed / "model.safetensors"), metadata={"format": "pt"})

    other = load_encoder(str(changed), precision="bf16").model
    word = "embeddings.word_embeddings.weight"
    assert other.get_parameter(word).data_ptr() != encoder.get_parameter(word).data_ptr()
    assert torch.equal(other.get_parameter(word), tensors[word].to(torch.bfloat16))
    position = "embeddings.position_embeddings.weight"
    assert other.get_parameter(position).data_ptr() == encoder.get_parameter(position).data_ptr()


def test_shared_parts_are_freed_with_the_last_model(tiny_family: dict[str, Path]) -> None:
    first = load_classifier(str(tiny_family["sentiment"]))
    second = load_encoder(str(tiny_family["encoder"]))
    tokenizer, model = weakref.ref(first.tokenizer), weakref.ref(first.model)
    del first
    gc.collect()
    assert tokenizer() is second.tokenizer  # still used by the encoder
    assert model() is None
    del second
    gc.collect()
    assert tokenizer() is None


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_large_tensors_are_one_mapped_file_with_the_same_values(
    tiny_family: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    """A tensor of at least MAPPED_MIN_BYTES is a read-only mapping of a converted file in the cache (only the rows
    that are used occupy memory), one for all models, with the values of the usual load."""
    monkeypatch.setenv("RESONANZ_CACHE_DIR", str(tmp_path / "cache"))
    word = "embeddings.word_embeddings.weight"
    tensors = load_file(str(tiny_family["encoder"] / "model.safetensors"))
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    monkeypatch.setattr(loading, "MAPPED_MIN_BYTES", tensors[word].numel() * dtype.itemsize)
    models = [
        load_classifier(str(tiny_family["sentiment"]), precision=precision).model.bert,
        load_classifier(str(tiny_family["offensive"]), kind="offensive", precision=precision).model.bert,
        load_encoder(str(tiny_family["encoder"]), precision=precision).model,
    ]
    words = [m.get_parameter(word) for m in models]
    assert len({w.data_ptr() for w in words}) == 1
    files = [line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if _holds(line, words[0])]
    assert len(files) == 1 and Path(files[0]).parent == tmp_path / "cache" / "models" / "mapped"
    assert torch.equal(words[0], tensors[word].to(dtype))
    small = models[2].get_parameter("encoder.layer.0.attention.self.query.weight")  # below the size: in memory
    lines = Path("/proc/self/maps").read_text().splitlines()
    assert not any(_holds(line, small) and "mapped" in line for line in lines)


def _holds(maps_line: str, tensor: torch.Tensor) -> bool:
    low, high = (int(x, 16) for x in maps_line.split()[0].split("-"))
    return low <= tensor.data_ptr() < high


@pytest.mark.slow
def test_the_default_tokenizer_keeps_no_python_copy_of_its_vocabulary() -> None:
    from transformers import AutoTokenizer

    base = str(loading.resolve_default("base"))
    tokenizer = loading.load_tokenizer(base)
    fresh = AutoTokenizer.from_pretrained(base)
    assert isinstance(getattr(fresh, "_vocab", None), list)  # what transformers keeps (~65 MB for XLM-R)
    assert getattr(tokenizer, "_vocab", None) is None
    texts = ["passage: Die Lieferung kam zu spät 😡 #fail", "passage:  Zwei  Leerzeichen\nund Zeilen, niño, Straße"]
    assert tokenizer(texts)["input_ids"] == fresh(texts)["input_ids"]
