"""Tiny models built by the tests themselves (offline): a word-level tokenizer and small BERTs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import BertConfig, BertForSequenceClassification, BertModel, PreTrainedTokenizerFast

_TEXT = (
    "die lieferung kam zu spät und das paket war kaputt der preis ist viel zu hoch ich bin sehr zufrieden "
    "mit dem service danke für die schnelle hilfe rechnung falsch app stürzt ab kündigen vertrag nie wieder "
    "super toll schlecht gut filiale geschlossen ware nicht verfügbar rücksendung retoure kundenservice hotline "
    "query passage : wütend http @user"
)
WORDS = _TEXT.split()


def build_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    vocab = {tok: i for i, tok in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(WORDS)])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    fast.save_pretrained(directory)
    return fast


def tiny_config(vocab_size: int, **kwargs: Any) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=0.4,  # large random weights, so that different texts get clearly different outputs
        **kwargs,
    )


def build_classifier(directory: Path, id2label: dict[int, str], seed: int = 0, **config: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(directory)
    torch.manual_seed(seed)
    cfg = tiny_config(
        len(tokenizer), num_labels=len(id2label), id2label=id2label, label2id={v: k for k, v in id2label.items()}
    )
    for key, value in config.items():
        setattr(cfg, key, value)
    BertForSequenceClassification(cfg).eval().save_pretrained(directory)
    return directory


def build_encoder(directory: Path, seed: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(directory)
    torch.manual_seed(seed)
    BertModel(tiny_config(len(tokenizer)), add_pooling_layer=False).eval().save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_sentiment_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_classifier(
        tmp_path_factory.mktemp("tiny-sentiment"),
        {0: "negative", 1: "neutral", 2: "positive"},
        resonanz_model_version="tiny-1",
    )


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_encoder(tmp_path_factory.mktemp("tiny-encoder"))


def derive_classifier(encoder_dir: Path, directory: Path, id2label: dict[int, str], seed: int, version: str) -> Path:
    """A classifier that shares the encoder's embeddings and first layer and has its own last layer and head.

    This is how the shipped models are built (base e5 + fine-tuned top layer), in miniature.
    """
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(directory)
    torch.manual_seed(seed)
    cfg = tiny_config(
        len(tokenizer), num_labels=len(id2label), id2label=id2label, label2id={v: k for k, v in id2label.items()}
    )
    cfg.resonanz_prefix = "passage: "
    cfg.resonanz_model_version = version
    model = BertForSequenceClassification(cfg).eval()
    base = BertModel.from_pretrained(encoder_dir).state_dict()
    own = {k: v for k, v in base.items() if not k.startswith("encoder.layer.1.")}
    missing = model.bert.load_state_dict(own, strict=False)
    assert all(k.startswith(("encoder.layer.1.", "pooler.")) for k in missing.missing_keys)
    model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_family(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Encoder + sentiment + offensive classifiers that share their lower layer, like the defaults."""
    return {
        "encoder": tiny_encoder_dir,
        "sentiment": derive_classifier(
            tiny_encoder_dir,
            tmp_path_factory.mktemp("fam-sent"),
            {0: "negative", 1: "neutral", 2: "positive"},
            11,
            "fam-s-1",
        ),
        "offensive": derive_classifier(
            tiny_encoder_dir, tmp_path_factory.mktemp("fam-off"), {0: "OTHER", 1: "OFFENSE"}, 12, "fam-o-1"
        ),
    }
