"""Transformer + lexical hybrid for the default models and those `resonanz train` builds (nlp/MODEL_CARD.md, "Hybrid").

The shipped ``germeval`` sentiment model and the offensive model each come with a lexical model
(``nlp/weights/<name>.lexical.safetensors``, :class:`~nlp.lexical.LexicalModel`; the default sentiment
model has none: it reads every domain with the transformer alone), and so does every
model ``resonanz train`` builds (``resonanz.lexical.safetensors`` inside its model directory). When the
configured model is the default one or such a directory, the class probabilities are combined as
``softmax(w * log p_transformer + (1 - w) * log p_lexical + b)`` with the weight ``w`` and the optional
per-class offsets ``b`` stored in the lexical file; other models (Hugging Face ids, directories without
that file) get no lexical part. The score version gets a ``+<lexical hash[:8]>`` suffix, so changing
the lexical model changes the stored version.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import NlpError
from nlp.labels import CLASSES
from nlp.lexical import LEXICAL_FILENAME, LexicalModel, lexical_version, mix_probabilities
from nlp.loading import DEFAULT, GERMEVAL
from nlp.scorer import SentimentResult

log = logging.getLogger(__name__)

OFFENSIVE_LABEL = "OFFENSE"


@dataclass
class LexicalPart:
    model: LexicalModel
    version: str
    """First 12 hex digits of the lexical file's SHA-256."""


class LexicalMixer:
    """Applies the lexical part of the default sentiment and/or offensive model (either may be absent)."""

    def __init__(self, sentiment: LexicalPart | None = None, offensive: LexicalPart | None = None) -> None:
        if sentiment is not None and sorted(sentiment.model.labels) != sorted(CLASSES):
            raise NlpError(f"lexical sentiment labels {sentiment.model.labels} are not {list(CLASSES)}")
        if offensive is not None and OFFENSIVE_LABEL not in offensive.model.labels:
            raise NlpError(f"lexical offensive labels {offensive.model.labels} lack {OFFENSIVE_LABEL!r}")
        self.sentiment = sentiment
        self.offensive = offensive

    @classmethod
    def for_models(cls, scorer: Any, offensive: Any) -> LexicalMixer | None:
        """The lexical parts of ``scorer``/``offensive`` (default models, trained directories); None if none."""
        parts: dict[str, LexicalPart | None] = {"sentiment": None, "offensive": None}
        for kind, model in (("sentiment", scorer), ("offensive", offensive)):
            spec = getattr(model, "model_spec", None) if model is not None else None
            if spec == DEFAULT or (kind == "sentiment" and spec == GERMEVAL):
                parts[kind] = load_part(kind, str(spec))
            elif isinstance(spec, str | Path) and (Path(spec).expanduser() / LEXICAL_FILENAME).is_file():
                parts[kind] = load_part_from(Path(spec).expanduser() / LEXICAL_FILENAME, kind)
        if parts["sentiment"] is None and parts["offensive"] is None:
            return None
        return cls(parts["sentiment"], parts["offensive"])

    @property
    def version_suffix(self) -> str:
        """``+<sentiment lexical hash[:8]>`` and/or ``+off-<offensive lexical hash[:8]>``."""
        out = f"+{self.sentiment.version[:8]}" if self.sentiment else ""
        return out + (f"+off-{self.offensive.version[:8]}" if self.offensive else "")

    def mix_sentiment(self, texts: Sequence[str], results: Sequence[SentimentResult]) -> list[SentimentResult]:
        if self.sentiment is None or not results:
            return list(results)
        lexical = self.sentiment.model
        p_t = np.array([[r.p_negative, r.p_neutral, r.p_positive] for r in results], dtype=np.float64)
        order = [lexical.labels.index(c) for c in CLASSES]
        p_l = lexical.predict_proba(texts)[:, order]
        bias = np.asarray(lexical.class_bias)[order] if lexical.class_bias else ()
        mixed = mix_probabilities(p_t, p_l, lexical.mix_weight, bias)
        return [SentimentResult.from_probabilities(row) for row in mixed]

    def mix_offensive(self, texts: Sequence[str], p_offensive: np.ndarray | None) -> np.ndarray | None:
        if self.offensive is None or p_offensive is None or len(p_offensive) == 0:
            return p_offensive
        lexical = self.offensive.model
        p = np.asarray(p_offensive, dtype=np.float64)
        p_t = np.stack([1.0 - p, p], axis=1)
        k = lexical.labels.index(OFFENSIVE_LABEL)
        pl = lexical.predict_proba(texts)[:, k].astype(np.float64)
        p_l = np.stack([1.0 - pl, pl], axis=1)
        bias = [sum(lexical.class_bias) - lexical.class_bias[k], lexical.class_bias[k]] if lexical.class_bias else []
        return np.asarray(mix_probabilities(p_t, p_l, lexical.mix_weight, bias)[:, 1], dtype=np.float64)

    def apply(
        self, texts: Sequence[str], sentiment: Sequence[SentimentResult], p_offensive: np.ndarray | None
    ) -> tuple[list[SentimentResult], np.ndarray | None]:
        return self.mix_sentiment(texts, sentiment), self.mix_offensive(texts, p_offensive)


def load_part(kind: str, name: str = DEFAULT) -> LexicalPart | None:
    """The shipped lexical model of bundled model ``name`` of ``kind`` (None when it has none; a corrupt
    file is logged and skipped)."""
    from nlp.default_model import lexical_model_path

    path = lexical_model_path(kind, name)
    return None if path is None else load_part_from(path, kind)


def load_part_from(path: Path, kind: str) -> LexicalPart | None:
    """The lexical model at ``path`` (a corrupt or mismatched file is logged and skipped, never fatal)."""
    try:
        part = LexicalPart(LexicalModel.load(path), lexical_version(path))
    except NlpError as exc:
        log.warning("the lexical part of the %s model is off: %s", kind, exc)
        return None
    expected = sorted(CLASSES) if kind == "sentiment" else None
    if (expected and sorted(part.model.labels) != expected) or (
        kind == "offensive" and OFFENSIVE_LABEL not in part.model.labels
    ):
        log.warning(
            "the lexical part %s has labels %s, which do not fit the %s model; it is off", path, part.model.labels, kind
        )
        return None
    return part
