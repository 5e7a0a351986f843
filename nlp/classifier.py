"""A lazily loaded Hugging Face sequence classifier that runs through :class:`~nlp.encoder.EncoderRunner`.

The sentiment scorer and the offensive-language classifier are both this class plus a mapping of
label names. BERT models run through the lean forward of :mod:`nlp.fast_bert` (same numbers,
faster); other architectures use their Hugging Face forward. If the model's config names an
input prefix (``resonanz_prefix``, e.g. ``"passage: "`` for the e5-based defaults) it is
prepended to every text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlp import fast_bert
from nlp.encoder import EncoderRunner, LazyEncoderModel
from nlp.loading import DEFAULT, LoadedModel, load_classifier

log = logging.getLogger(__name__)


class TransformerClassifier(LazyEncoderModel):
    """``model``: ``"default"``, a local directory or a hub id; ``kind``: which default ('sentiment', 'offensive').

    ``batch_tokens``: padded tokens per batch. ``workers``: parallel single-threaded workers
    (default: one per available core). ``precision``: ``"fp32"`` or ``"bf16"`` (faster on CPUs
    with AMX/AVX512-BF16; the version gets a ``+bf16`` suffix). ``fast``: use the lean BERT forward.
    """

    kind = "sentiment"

    def __init__(
        self,
        model: str | Path = DEFAULT,
        *,
        batch_tokens: int = 4096,
        max_length: int = 256,
        workers: int | None = None,
        precision: str = "fp32",
        cache_dir: Path | None = None,
        progress: bool = True,
        fast: bool = True,
    ) -> None:
        self.model_spec = str(model)
        self.batch_tokens = batch_tokens
        self.max_length = max_length
        self.workers = workers
        self.precision = precision
        self.cache_dir = cache_dir
        self.progress = progress
        self.use_fast = fast
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._runner: EncoderRunner | None = None
        self._fast: fast_bert.FastBert | None = None
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
    def load(self) -> LoadedModel:
        """Load the model now (otherwise it is loaded on first use). Safe to call from several threads."""
        with self._lock:
            if self._loaded is None:
                loaded = load_classifier(
                    self.model_spec, kind=self.kind, cache_dir=self.cache_dir, precision=self.precision
                )
                self._install(loaded)
                self._loaded = loaded
        return self._loaded

    def _install(self, loaded: LoadedModel) -> None:
        """Prepare label mappings etc.; subclasses extend it (it may raise, then nothing is installed)."""
        self.prefix = str(getattr(loaded.model.config, "resonanz_prefix", "") or "")
        self._fast = fast_bert.FastBert(loaded.model) if self.use_fast and fast_bert.supports(loaded.model) else None
        self._runner = EncoderRunner(
            loaded.tokenizer,
            max_length=self.max_length,
            batch_tokens=self.batch_tokens,
            workers=self.workers,
            progress=self.progress,
            desc=self.kind.capitalize(),
        )

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
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

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
