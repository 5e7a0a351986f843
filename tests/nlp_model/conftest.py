"""Tiny, randomly initialised BERT + Unigram tokenizer built on the fly, standing in for the converted base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

WORDS = [
    "gut",
    "super",
    "toll",
    "danke",
    "freundlich",
    "schnell",
    "pünktlich",
    "schlecht",
    "mies",
    "ärgerlich",
    "spät",
    "kaputt",
    "dreck",
    "idiot",
    "zug",
    "bahn",
    "fahrt",
    "heute",
    "morgen",
    "wieder",
    "der",
    "die",
    "das",
    "ist",
    "war",
    "und",
    "nicht",
    "sehr",
    "passage",
    ":",
]


def build_tiny_base(path: Path, layers: int = 2, hidden: int = 32) -> Path:
    """Write a BertModel dir shaped like the converted e5 base (config with resonanz_source, tokenizer files)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = [(t, 0.0) for t in specials] + [("▁" + w, -float(i % 7) - 1.0) for i, w in enumerate(WORDS)]
    vocab += [(c, -12.0) for c in sorted(set("".join(WORDS)) | set("abcdefghijklmnopqrstuvwxyzäöüß!?.,"))]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    path.mkdir(parents=True, exist_ok=True)
    tok.save(str(path / "tokenizer.json"))
    specials_map = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
                    "cls_token": "<s>", "sep_token": "</s>"}  # fmt: skip
    (path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 64, **specials_map})
    )
    (path / "special_tokens_map.json").write_text(json.dumps(specials_map))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=hidden * 2, max_position_embeddings=64, pad_token_id=1,
    )  # fmt: skip
    config.resonanz_source = {"sha256": "0" * 64, "converted_from": "test"}
    BertModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_base(tmp_path_factory.mktemp("tiny") / "base")
