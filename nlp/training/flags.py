"""Training the flag heads (:mod:`nlp.flag_model`) on labelled posts: one logistic regression per flag.

``C = 1.0`` and the 0.5 threshold were chosen by 5-fold cross-validation on the training posts only
(weighting the classes raised recall but cost 5-10 points of precision, and a community manager's
queue needs precision more); the evaluation set is never seen here.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import TrainingDataError
from nlp.flag_model import FLAG_CLASSES, FlagModel

log = logging.getLogger(__name__)

C = 1.0
THRESHOLD = 0.5


def read_flag_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    """``(texts, labels (n, classes))`` from a TSV with a ``text`` column and one 0/1 column per flag."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts: list[str] = []
    labels: list[list[int]] = []
    for n, row in enumerate(rows, 2):
        text = (row.get("text") or "").strip()
        try:
            values = [int(row[name]) for name in FLAG_CLASSES]
        except (KeyError, TypeError, ValueError):
            raise TrainingDataError(
                f"{path}:{n}: every row needs 0/1 in the columns {', '.join(FLAG_CLASSES)} and a text"
            ) from None
        if not text or any(v not in (0, 1) for v in values):
            raise TrainingDataError(f"{path}:{n}: empty text or a flag value other than 0/1")
        texts.append(text)
        labels.append(values)
    return texts, np.array(labels, dtype=np.int64)


def train_flag_model(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    extra_negatives: dict[str, np.ndarray] | None = None,
) -> FlagModel:
    """Fit one head per flag; cross-validated precision/recall go into the metadata.

    ``extra_negatives``: flag -> feature rows that are known not to carry that flag (weakly labelled,
    e.g. complaints from public corpora without leaving language for ``churn``). They join every
    training fold of that head and never a test fold, so the cross-validated numbers stay on the
    labelled posts alone.
    """
    extra_negatives = extra_negatives or {}
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import precision_score, recall_score
    from sklearn.model_selection import StratifiedKFold

    weights, biases, cv = [], [], {}
    for j, name in enumerate(FLAG_CLASSES):
        y = labels[:, j]
        if y.sum() < folds or (len(y) - y.sum()) < folds:
            raise TrainingDataError(f"Too few examples with and without {name!r} to train its head ({int(y.sum())}).")
        head = LogisticRegression(C=C, max_iter=5000)
        extra = extra_negatives.get(name)
        p = np.zeros(len(y))
        for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(features, y):
            x_train, y_train = features[train_idx], y[train_idx]
            if extra is not None and len(extra):
                x_train, y_train = np.vstack([x_train, extra]), np.concatenate([y_train, np.zeros(len(extra), int)])
            p[test_idx] = (
                LogisticRegression(C=C, max_iter=5000).fit(x_train, y_train).predict_proba(features[test_idx])[:, 1]
            )
        pred = p >= THRESHOLD
        cv[name] = {
            "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
            "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
            "positives": int(y.sum()),
        }
        if extra is not None and len(extra):
            head.fit(np.vstack([features, extra]), np.concatenate([y, np.zeros(len(extra), int)]))
        else:
            head.fit(features, y)
        weights.append(head.coef_[0])
        biases.append(head.intercept_[0])
        log.info("flag %s: cross-validated precision %.2f recall %.2f", name, cv[name]["precision"], cv[name]["recall"])
    weight = np.vstack(weights)
    digest = hashlib.sha1(weight.astype(np.float32).tobytes()).hexdigest()[:12]
    meta: dict[str, Any] = {"version": digest, "C": C, "threshold": THRESHOLD, "cv": cv, "examples": int(len(labels))}
    return FlagModel(weight=weight, bias=np.array(biases), thresholds=np.full(len(FLAG_CLASSES), THRESHOLD), meta=meta)


def describe_cv(model: FlagModel) -> list[str]:
    """One line per flag: cross-validated precision and recall (for logs and the CLI)."""
    cv: dict[str, dict[str, float]] = model.meta.get("cv", {})
    return [f"{n}: precision {v['precision']:.2f}, recall {v['recall']:.2f}" for n, v in cv.items()]
