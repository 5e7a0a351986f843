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


DEFAULT_GATE = 0.25
"""The offensive cascade's gate, fixed before measuring (the head gives a post at least a one-in-four chance)."""


class DeepOffensiveClassifier(OffensiveClassifier):
    """The offensive cascade's second model (``default``: the bundled all-layer LoRA model)."""

    kind = "offensive-deep"


class OffensiveCascade:
    """A second, stronger offensive model for the posts the first one is unsure of.

    The first model is the shared-trunk head (layer 11 on the embedder's layers 0-10: nearly free, it reads every
    post). Posts it gives at least ``gate`` go to ``second`` (the all-layer LoRA model, a full encoder pass),
    whose probability replaces the head's; the others keep the head's (below ``gate`` < 0.5: not offensive).
    5-fold CV on GermEval 2018 training (``scripts/offensive_cascade_cv.py``, nlp/MODEL_CARD.md): macro-F1 of
    the cascade close to the second model alone, at the cost of a full pass for the share of posts above the
    gate instead of for every post.
    """

    def __init__(self, second: OffensiveClassifier, gate: float = DEFAULT_GATE) -> None:
        if not 0.0 <= gate < 0.5:
            raise ValueError(f"the gate of the offensive cascade must lie in [0, 0.5), got {gate}")
        self.second = second
        self.gate = gate
        self.sent = 0
        """Posts the second model has read (for logs and benchmarks)."""

    def load(self) -> None:
        self.second.load()

    @property
    def version(self) -> str:
        return self.second.version

    def refine(self, texts: Sequence[str], p_head: np.ndarray) -> np.ndarray:
        """``p_head`` with the second model's probability where the head gave at least ``gate``."""
        picked = np.flatnonzero(p_head >= self.gate)
        if picked.size == 0:
            return p_head
        out = np.array(p_head, dtype=np.float64, copy=True)
        out[picked] = self.second.p_offensive([texts[int(i)] for i in picked])
        self.sent += int(picked.size)
        return out
