"""Topic detection from example sentences: one-vs-rest logistic regression on e5 passage embeddings.

A taxonomy may give example sentences per topic (``examples = [...]`` in a ``[[topic]]`` entry) and/or
name an ``examples_file``: a UTF-8 TSV with one ``topic<TAB>text`` per line (blank lines and lines
starting with ``#`` are skipped; a first line ``topic<TAB>text`` is a header). A text may appear under
several topics (it then is a positive example of each). The topic ``-`` marks a sentence that belongs
to *no* topic: a negative example for every topic, the best way to teach the classifier what the
ordinary off-topic chatter of a channel looks like.

Why a linear model on frozen embeddings: it trains in a second on a CPU from a few dozen examples per
topic, needs no GPU and no second transformer, and reuses the passage embeddings the
:class:`~nlp.pipeline.Analyzer` computes for every post anyway (so detection costs one matrix product
per batch). A fine-tuned classifier would be more accurate with thousands of examples, but not with the
20-200 a user writes down.

The decision threshold of each topic is chosen by cross-validation on the examples themselves: the
out-of-fold probabilities of the examples are computed (5 folds, fewer for small topics) and the
threshold that maximises that topic's F1 is taken. Trade-offs:

* The examples are (almost) all on-topic for *some* topic, whereas most real posts are about none.
  An F1-optimal threshold on the examples therefore underestimates the false positives on off-topic
  posts. Negative examples (topic ``-``) fix that at the source; without them the threshold is at
  least :data:`MIN_THRESHOLD`, a conservative floor rather than a tuned value.
* Per-topic thresholds adapt to topics that are easy or hard to separate, but with few examples the
  chosen value is noisy; a topic with fewer than :data:`MIN_POSITIVES` examples gets the 0.5 default
  instead of a cross-validated one.
* Keyword rules stay authoritative: a keyword hit is kept whatever the classifier says (keywords are
  the user's precise statement), the classifier only adds topics (recall).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.errors import RuleConfigError

log = logging.getLogger(__name__)

NONE_TOPIC = "-"
"""The topic name of negative examples (texts about none of the topics)."""
MIN_POSITIVES = 5
"""Topics with fewer examples get the default threshold (cross-validation would be noise)."""
MIN_THRESHOLD = 0.3
DEFAULT_THRESHOLD = 0.5
C = 4.0
"""Inverse L2 regularisation: e5 vectors are unit length with small coordinates, so the sklearn default
(1.0) underfits; 4 is a conventional middle ground (not tuned on any evaluation data)."""


def read_examples_file(path: Path, topic_names: Sequence[str], where: str) -> list[tuple[str, str]]:
    """``(topic, text)`` pairs from a TSV (see the module docstring); errors name the file and line."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleConfigError(
            f"{where}: cannot read the examples file {path}: {exc}. Fix 'examples_file' (relative paths start at "
            "the taxonomy file's folder)."
        ) from exc
    known = set(topic_names)
    out: list[tuple[str, str]] = []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        topic, tab, text = line.partition("\t")
        topic, text = topic.strip(), " ".join(text.split())
        if n == 1 and topic.lower() == "topic" and text.lower() == "text":
            continue
        if not tab or not text:
            raise RuleConfigError(f"{path}, line {n}: expected 'topic<TAB>text', got {line[:60]!r}.")
        if topic != NONE_TOPIC and topic not in known:
            raise RuleConfigError(
                f"{path}, line {n}: unknown topic {topic!r}; use one of {sorted(known)} or '{NONE_TOPIC}' for a "
                "sentence about none of them."
            )
        out.append((topic, text))
    if not out:
        raise RuleConfigError(f"{path}: the examples file has no 'topic<TAB>text' lines.")
    return out


def group_examples(pairs: Sequence[tuple[str, str]], topic_names: Sequence[str]) -> tuple[list[str], list[set[int]]]:
    """Unique texts (first-seen order) and, per text, the indices (into ``topic_names``) of its topics."""
    index = {name: j for j, name in enumerate(topic_names)}
    texts: dict[str, set[int]] = {}
    for topic, text in pairs:
        labels = texts.setdefault(text, set())
        if topic != NONE_TOPIC:
            labels.add(index[topic])
    return list(texts), list(texts.values())


def best_f1_threshold(y: np.ndarray, p: np.ndarray, floor: float = MIN_THRESHOLD) -> tuple[float, float]:
    """The threshold on ``p`` with the best F1 for the boolean labels ``y`` (at least ``floor``) and that F1.

    Candidates are the midpoints between consecutive distinct probabilities, so the threshold sits in a gap
    of the out-of-fold scores rather than exactly on one of them. When several candidates reach the best F1
    (well separated examples), the median one is taken: neither the most liberal nor the strictest.
    """
    values = np.unique(p)
    candidates = np.concatenate([[floor], (values[:-1] + values[1:]) / 2]) if len(values) > 1 else np.array([floor])
    candidates = np.unique(candidates[candidates >= floor])
    positives = int(y.sum())
    if not positives:
        return max(floor, DEFAULT_THRESHOLD), 0.0
    f1 = np.array([2 * int(((p >= t) & y).sum()) / (positives + int((p >= t).sum())) for t in candidates])
    tied = candidates[f1 >= f1.max() - 1e-12]
    return float(np.median(tied)), float(f1.max())


@dataclass
class ExampleClassifier:
    """One logistic regression per topic with examples; columns follow ``topic_index``."""

    topic_index: list[int]
    """Indices (into the taxonomy's topics) of the topics this classifier covers."""
    coef: np.ndarray
    intercept: np.ndarray
    thresholds: np.ndarray
    cv_f1: dict[int, float] = field(default_factory=dict)
    """Per covered topic: the F1 of the out-of-fold predictions at the chosen threshold."""

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: Sequence[set[int]], n_topics: int, *, seed: int = 0) -> ExampleClassifier:
        """Train on ``vectors`` (one row per unique example text) with the topic sets ``labels``."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        covered, coefs, intercepts, thresholds, cv_f1 = [], [], [], [], {}
        for j in range(n_topics):
            y = np.array([j in s for s in labels], dtype=bool)
            positives, negatives = int(y.sum()), int((~y).sum())
            if positives == 0:
                continue
            if negatives == 0:
                log.warning("topic #%d: every example is positive; its examples are ignored (add other topics)", j)
                continue
            model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
            threshold = DEFAULT_THRESHOLD
            folds = min(5, positives, negatives)
            if positives >= MIN_POSITIVES and folds >= 2:
                cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
                oof = cross_val_predict(model, vectors, y, cv=cv, method="predict_proba")[:, 1]
                threshold, cv_f1[j] = best_f1_threshold(y, oof)
            model.fit(vectors, y)
            covered.append(j)
            coefs.append(model.coef_[0])
            intercepts.append(float(model.intercept_[0]))
            thresholds.append(threshold)
        if not covered:
            raise RuleConfigError("no topic has both examples and counter-examples; add examples to two topics.")
        return cls(
            topic_index=covered,
            coef=np.asarray(coefs, dtype=np.float32),
            intercept=np.asarray(intercepts, dtype=np.float32),
            thresholds=np.asarray(thresholds, dtype=np.float32),
            cv_f1=cv_f1,
        )

    def probabilities(self, embeddings: np.ndarray, n_topics: int) -> np.ndarray:
        """``(n, n_topics)``: each covered topic's probability; NaN for topics without examples."""
        out = np.full((len(embeddings), n_topics), np.nan, dtype=np.float32)
        if len(embeddings):
            z = embeddings.astype(np.float32) @ self.coef.T + self.intercept
            out[:, self.topic_index] = 1.0 / (1.0 + np.exp(-z))
        return out

    def threshold_of(self, topic: int) -> float | None:
        """The decision threshold of taxonomy topic ``topic`` (None: not covered)."""
        try:
            return float(self.thresholds[self.topic_index.index(topic)])
        except ValueError:
            return None
