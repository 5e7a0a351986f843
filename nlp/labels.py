"""Map a classifier's own label names (its ``config.id2label``) onto Resonanz's three sentiment classes.

Handled: English and German names (``negative``/``negativ``/``neg``/``NEG``/``very positive`` ...),
star ratings (``1 star`` .. ``5 stars``, summed into negative 1-2 / neutral 3 / positive 4-5) and
generic ``LABEL_0``/``0`` names when there are 2 or 3 of them (the common convention: ascending
negative -> positive). Anything else raises :class:`~nlp.errors.LabelMappingError`, unless an
explicit mapping is given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import numpy as np

from nlp.errors import LabelMappingError

log = logging.getLogger(__name__)

CLASSES: tuple[str, str, str] = ("negative", "neutral", "positive")

_NAMES: dict[str, str] = {
    "negative": "negative",
    "negativ": "negative",
    "neg": "negative",
    "very negative": "negative",
    "sehr negativ": "negative",
    "bad": "negative",
    "schlecht": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "neut": "neutral",
    "mixed": "neutral",
    "gemischt": "neutral",
    "none": "neutral",
    "positive": "positive",
    "positiv": "positive",
    "pos": "positive",
    "very positive": "positive",
    "sehr positiv": "positive",
    "good": "positive",
    "gut": "positive",
}
_STARS_RE = re.compile(r"^([1-5])\s*(?:star|stars|stern|sterne)?$")
_GENERIC_RE = re.compile(r"^(?:label ?)?(\d+)$")


def _clean(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.strip().lower())


def label_matrix(id2label: Mapping[int, str], explicit: Mapping[str, str] | None = None) -> np.ndarray:
    """A ``(num_labels, 3)`` 0/1 matrix: model probabilities @ matrix = (p_negative, p_neutral, p_positive).

    ``explicit`` maps the model's label names to ``negative``/``neutral``/``positive`` and wins over
    the built-in rules. Raises :class:`LabelMappingError` if a label cannot be placed.
    """
    n = len(id2label)
    labels = [str(id2label[i]) for i in range(n)]
    matrix = np.zeros((n, 3), dtype=np.float32)
    target = [_target(label, labels, explicit) for label in labels]
    for i, cls in enumerate(target):
        matrix[i, CLASSES.index(cls)] = 1.0
    if not matrix[:, 0].any() or not matrix[:, 2].any():
        raise LabelMappingError(
            f"the model's labels {labels} do not include both a negative and a positive class; "
            "use a sentiment model (negative/neutral/positive), or give an explicit label map."
        )
    return matrix


def _target(label: str, labels: list[str], explicit: Mapping[str, str] | None) -> str:
    if explicit:
        mapped = explicit.get(label) or explicit.get(_clean(label))
        if mapped:
            if mapped not in CLASSES:
                raise LabelMappingError(
                    f"label map entry {label!r} -> {mapped!r}: the target must be one of {', '.join(CLASSES)}."
                )
            return mapped
    clean = _clean(label)
    if clean in _NAMES:
        return _NAMES[clean]
    stars = _STARS_RE.match(clean)
    if stars and len(labels) == 5 and all(_STARS_RE.match(_clean(x)) for x in labels):
        value = int(stars.group(1))  # "1 star" .. "5 stars", or bare "1" .. "5"
        return "negative" if value <= 2 else "neutral" if value == 3 else "positive"
    generic = _GENERIC_RE.match(clean)
    if generic and all(_GENERIC_RE.match(_clean(x)) for x in labels):
        index = int(generic.group(1))
        if len(labels) == 3 and index < 3:
            log.warning("model labels %s are generic; assuming 0=negative, 1=neutral, 2=positive", labels)
            return CLASSES[index]
        if len(labels) == 2 and index < 2:
            log.warning("model labels %s are generic; assuming 0=negative, 1=positive", labels)
            return "negative" if index == 0 else "positive"
        if len(labels) == 5 and index < 5:
            log.warning("model labels %s are generic; assuming 5 ascending ratings", labels)
            return "negative" if index <= 1 else "neutral" if index == 2 else "positive"
    raise LabelMappingError(
        f"cannot map the model label {label!r} (all labels: {labels}) to negative/neutral/positive. "
        "Choose a sentiment model whose labels are named like negative/neutral/positive, or give an explicit "
        "label map (RESONANZ_NLP__LABEL_MAP='{\"" + label + '": "negative"}\').'
    )


OFFENSIVE_NAMES = (
    "offensive",
    "offense",
    "offence",
    "abusive",
    "abuse",
    "toxic",
    "hate",
    "insult",
    "profanity",
    "beleidigend",
    "beleidigung",
    "hass",
)
NOT_OFFENSIVE_NAMES = (
    "not offensive",
    "non offensive",
    "not toxic",
    "non toxic",
    "clean",
    "neutral",
    "none",
    "other",
    "normal",
    "ok",
    "harmless",
    "nicht beleidigend",
    "no",
)


def offensive_vector(id2label: Mapping[int, str]) -> np.ndarray:
    """A ``(num_labels,)`` 0/1 vector: model probabilities @ vector = p_offensive.

    Binary classifiers with generic names (``LABEL_0``/``LABEL_1``) are read as 1 = offensive.
    """
    n = len(id2label)
    labels = [_clean(str(id2label[i])) for i in range(n)]
    vector = np.zeros(n, dtype=np.float32)
    for i, label in enumerate(labels):
        if label in NOT_OFFENSIVE_NAMES or label.startswith(("not ", "non ", "no ")):
            continue
        if any(name in label for name in OFFENSIVE_NAMES):
            vector[i] = 1.0
    if not vector.any() and n == 2 and all(_GENERIC_RE.match(x) for x in labels):
        vector[1] = 1.0
    if not vector.any() or vector.all():
        raise LabelMappingError(
            f"cannot tell which of the labels {labels} means 'offensive'; use an offensive-language classifier "
            "with labels like offensive/not_offensive."
        )
    return vector
