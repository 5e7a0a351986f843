"""A lazily loaded Hugging Face sequence classifier that runs through :class:`~nlp.encoder.EncoderRunner`.

The sentiment scorer and the offensive-language classifier are both this class plus a mapping of
label names. BERT models run through the lean forward of :mod:`nlp.fast_bert` (same numbers,
faster); other architectures use their Hugging Face forward. If the model's config names an
input prefix (``resonanz_prefix``, e.g. ``"passage: "`` for the e5-based defaults) it is
prepended to every text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from nlp.encoder import LazyEncoderModel
from nlp.loading import DEFAULT, LoadedModel, load_classifier

log = logging.getLogger(__name__)


class TransformerClassifier(LazyEncoderModel):
    """A sequence classifier; ``kind``: which default model ('sentiment', 'offensive').

    Options (``batch_tokens``, ``workers``, ``precision``, ``fast``, ...): :class:`~nlp.encoder.LazyEncoderModel`.
    """

    kind = "sentiment"

    def __init__(self, model: str | Path = DEFAULT, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.prefix = ""

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, *, name: str, version: str, **kwargs: Any) -> Any:
        """Wrap an already loaded Hugging Face model and tokenizer (benchmarks, notebooks, tests)."""
        out = cls(name, **kwargs)
        loaded = LoadedModel(tokenizer=tokenizer, model=model.eval(), name=name, version=version)
        out._install(loaded)
        out._loaded = loaded
        return out

    # -- loading -----------------------------------------------------------------------------------------
    def _load_model(self) -> LoadedModel:
        return load_classifier(self.model_spec, kind=self.kind, cache_dir=self.cache_dir, precision=self.precision)

    def _runner_desc(self) -> str:
        return self.kind.capitalize()

    def _install(self, loaded: LoadedModel) -> None:
        """Prepare label mappings etc.; subclasses extend it (it may raise, then nothing is installed)."""
        self.prefix = str(getattr(loaded.model.config, "resonanz_prefix", "") or "")
        super()._install(loaded)

    @property
    def model(self) -> Any:
        return self.load().model

    @property
    def tokenizer(self) -> Any:
        return self.load().tokenizer

    @property
    def num_labels(self) -> int:
        return len(self.model.config.id2label)

    # -- inference ---------------------------------------------------------------------------------------
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits for one padded batch."""
        fast = self.fast_model
        if fast is not None:
            return fast.classify(input_ids, attention_mask)
        return cast(torch.Tensor, self.model(input_ids=input_ids, attention_mask=attention_mask).logits)

    def model_inputs(self, texts: Sequence[str]) -> list[str]:
        """The texts as the model expects them (with its input prefix)."""
        self.load()
        return [self.prefix + t for t in texts] if self.prefix else list(texts)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The model's raw logits, shape ``(len(texts), num_labels)``, in input order."""
        if not texts:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        (out,) = self.runner.run(self.model_inputs(texts), self.forward)
        return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True), dtype=np.float64)
