"""Sentiment scoring: the :class:`Scorer` protocol and the transformer implementation.

:class:`TransformerScorer` accepts the bundled default model (``"default"``, offline), any local
directory or any Hugging Face sequence-classification model id. It loads the model once, on
first use, and scores with :class:`~nlp.encoder.EncoderRunner` (length-sorted batches under a
token budget, dynamic padding, one single-threaded worker per core, input order restored).
The model's own label names are mapped to negative/neutral/positive by :mod:`nlp.labels`.

Importing this module caps oneDNN's primitive cache (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``, unless set already) at
:data:`ONEDNN_CACHE` entries: with dynamic padding almost every batch has new matrix shapes, and the default cache
(1024 compiled kernels) kept growing the process by ~100 MB per thousand posts in bf16; with 16 the memory stays
flat over any backlog at the same speed (a batch's layers all share a handful of shapes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nlp.classifier import TransformerClassifier, softmax
from nlp.errors import ModelFileError
from nlp.labels import CLASSES, label_matrix
from nlp.loading import DEFAULT, SENTIMENT_ALIASES, LoadedModel

__all__ = ["Scorer", "SentimentResult", "TransformerScorer", "softmax"]

ONEDNN_CACHE = 16
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_CACHE))  # read at the first bf16 matmul


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


class TransformerScorer(TransformerClassifier):
    """A Hugging Face sequence classifier as a :class:`Scorer` (options: :class:`TransformerClassifier`).

    ``label_map``: explicit model-label -> class names, for models whose labels are not self-explanatory.
    """

    kind = "sentiment"

    def __init__(
        self, model: str | Path = DEFAULT, *, label_map: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(SENTIMENT_ALIASES.get(str(model), model), **kwargs)
        self.label_map = dict(label_map) if label_map else None
        self._matrix: np.ndarray | None = None

    def _install(self, loaded: LoadedModel) -> None:
        self._matrix = label_matrix(loaded.model.config.id2label, self.label_map)
        temperature = float(getattr(loaded.model.config, "resonanz_temperature", None) or 1.0)
        if not 0.05 <= temperature <= 20.0:
            raise ModelFileError(f"the model's resonanz_temperature {temperature} is implausible; retrain it.")
        self._temperature = temperature
        super()._install(loaded)

    _temperature: float = 1.0

    @property
    def temperature(self) -> float:
        """Logits are divided by it before the softmax (``resonanz_temperature`` in the model's config,
        fitted at training time, :mod:`nlp.calibration`; 1 for models without one)."""
        self.load()
        return self._temperature

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """``(n, 3)`` calibrated probabilities of negative/neutral/positive from the model's logits."""
        self.load()
        assert self._matrix is not None
        probabilities = softmax(np.asarray(logits, dtype=np.float64) / self._temperature) @ self._matrix
        return np.asarray(probabilities, dtype=np.float64)

    def results(self, logits: np.ndarray) -> list[SentimentResult]:
        return [SentimentResult.from_probabilities(row) for row in self.probabilities(logits)]

    def score(self, texts: Sequence[str]) -> list[SentimentResult]:
        return self.results(self.logits(texts))
