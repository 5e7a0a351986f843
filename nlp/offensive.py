"""The offensive/abusive-language classifier (default: the bundled German model, labels OTHER/OFFENSE)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.classifier import TransformerClassifier, softmax
from nlp.labels import offensive_vector
from nlp.loading import DEFAULT, LoadedModel


class OffensiveClassifier(TransformerClassifier):
    """``p_offensive`` per text; any binary offensive/toxic classifier can be configured instead of the default."""

    kind = "offensive"

    def __init__(self, model: str | Path = DEFAULT, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self._vector: np.ndarray | None = None

    def _install(self, loaded: LoadedModel) -> None:
        self._vector = offensive_vector(loaded.model.config.id2label)
        super()._install(loaded)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """``(n,)`` probability that each text is offensive."""
        self.load()
        assert self._vector is not None
        return np.asarray(softmax(logits) @ self._vector, dtype=np.float64)

    def p_offensive(self, texts: Sequence[str]) -> np.ndarray:
        return self.probabilities(self.logits(texts))
