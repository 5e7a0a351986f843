"""Sentiment scoring: the :class:`Scorer` protocol and the transformer implementation.

:class:`TransformerScorer` accepts the bundled default model (``"default"``, offline), any local
directory or any Hugging Face sequence-classification model id. It loads the model once, on
first use, and scores with :class:`~nlp.encoder.EncoderRunner` (length-sorted batches under a
token budget, dynamic padding, one single-threaded worker per core, input order restored).
The model's own label names are mapped to negative/neutral/positive by :mod:`nlp.labels`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from nlp.encoder import EncoderRunner
from nlp.labels import CLASSES, label_matrix
from nlp.loading import DEFAULT, LoadedModel, load_classifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentimentResult:
    label: str
    """negative, neutral or positive (the most probable of the three)."""
    p_negative: float
    p_neutral: float
    p_positive: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_probabilities(cls, probs: Sequence[float]) -> SentimentResult:
        p = [float(x) for x in probs]
        return cls(label=CLASSES[int(np.argmax(p))], p_negative=p[0], p_neutral=p[1], p_positive=p[2])


@runtime_checkable
class Scorer(Protocol):
    """Anything that turns texts into sentiment results, in input order."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def score(self, texts: Sequence[str]) -> list[SentimentResult]: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True), dtype=np.float64)


class TransformerScorer:
    """A Hugging Face sequence classifier as a :class:`Scorer` (see the module docstring).

    ``model``: ``"default"``, a local directory or a hub id. ``batch_tokens``: padded tokens per
    batch. ``workers``: parallel single-threaded workers (default: one per available core).
    ``precision``: ``"fp32"`` or ``"bf16"`` (faster on CPUs with AMX/AVX512-BF16; the version gets
    a ``+bf16`` suffix). ``label_map``: explicit model-label -> class names.
    """

    def __init__(
        self,
        model: str | Path = DEFAULT,
        *,
        batch_tokens: int = 8192,
        max_length: int = 256,
        workers: int | None = None,
        precision: str = "fp32",
        label_map: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
        progress: bool = True,
    ) -> None:
        self.model_spec = str(model)
        self.batch_tokens = batch_tokens
        self.max_length = max_length
        self.workers = workers
        self.precision = precision
        self.label_map = dict(label_map) if label_map else None
        self.cache_dir = cache_dir
        self.progress = progress
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._runner: EncoderRunner | None = None
        self._matrix: np.ndarray | None = None

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, **kwargs: Any) -> TransformerScorer:
        """Wrap an already loaded model (used by the pipeline, which shares it with other heads)."""
        scorer = cls(loaded.name, **kwargs)
        scorer._install(loaded)
        return scorer

    # -- loading -----------------------------------------------------------------------------------------
    def load(self) -> LoadedModel:
        """Load the model now (otherwise it is loaded on first use). Safe to call from several threads."""
        with self._lock:
            if self._loaded is None:
                self._install(load_classifier(self.model_spec, cache_dir=self.cache_dir, precision=self.precision))
        assert self._loaded is not None
        return self._loaded

    def _install(self, loaded: LoadedModel) -> None:
        self._matrix = label_matrix(loaded.model.config.id2label, self.label_map)
        self._runner = EncoderRunner(
            loaded.tokenizer,
            max_length=self.max_length,
            batch_tokens=self.batch_tokens,
            workers=self.workers,
            progress=self.progress,
            desc="Sentiment",
        )
        self._loaded = loaded

    @property
    def name(self) -> str:
        return self.load().name

    @property
    def version(self) -> str:
        return self.load().version

    @property
    def runner(self) -> EncoderRunner:
        self.load()
        assert self._runner is not None
        return self._runner

    # -- scoring -----------------------------------------------------------------------------------------
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits for one padded batch."""
        model = self.load().model
        return model(input_ids=input_ids, attention_mask=attention_mask).logits

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The model's raw logits, shape ``(len(texts), num_labels)``, in input order."""
        if not texts:
            return np.zeros((0, len(self.load().model.config.id2label)), dtype=np.float32)
        (out,) = self.runner.run(texts, self.forward)
        return out

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """``(n, 3)`` probabilities of negative/neutral/positive from the model's logits."""
        self.load()
        assert self._matrix is not None
        return softmax(logits) @ self._matrix

    def results(self, logits: np.ndarray) -> list[SentimentResult]:
        return [SentimentResult.from_probabilities(row) for row in self.probabilities(logits)]

    def score(self, texts: Sequence[str]) -> list[SentimentResult]:
        return self.results(self.logits(texts))
