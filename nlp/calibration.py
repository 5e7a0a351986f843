"""Calibrated probabilities and the label prior of a user's own stream.

``ask`` averages probabilities, so a miscalibrated model gives a wrong answer even where its labels
are right. Two corrections, both pure functions on probability arrays:

* **Temperature scaling** (Guo et al. 2017): one scalar ``T`` divides the logits; fitted once on the
  training side's held-out slice (never on a reported dev set) and stored in the model's config
  (``resonanz_temperature``). It changes confidence, never the arg-max label.
* **Prior adjustment by EM** (Saerens, Latinne, Decaestecker 2002): a brand's stream has its own
  label prior (GermEval 2017 is 65 % neutral, PotTS 43 % positive). Given the model's probabilities
  on the stream's *unlabelled* posts and the prior the model was trained under, EM alternates
  "re-weight every posterior by new prior / training prior" and "new prior = mean re-weighted
  posterior" until it settles. It needs no labels, so it can run on every scoring pass; with few
  posts the estimate is noisy, so :func:`estimate_prior` shrinks towards the uncorrected mean
  probability with ``pseudo_count`` virtual posts. Trade-off: EM assumes only the prior shifted (same ``p(x|y)``);
  a stream with new kinds of text also shifts ``p(x|y)`` and EM can then over-correct, which is why
  the shrinkage and the lower bound ``min_share`` exist.

:func:`expected_calibration_error` measures the result (15 equal-width confidence bins, top label).
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=-1, keepdims=True), dtype=np.float64)


def expected_calibration_error(proba: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| of the top label over equal-width confidence bins, weighted by bin size."""
    proba = np.asarray(proba, dtype=np.float64)
    if len(proba) == 0:
        return 0.0
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == np.asarray(labels)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() * abs(correct[sel].mean() - conf[sel].mean())
    return float(total / len(proba))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, grid: np.ndarray | None = None) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` (golden-section refined grid)."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)

    def nll(t: float) -> float:
        p = softmax(logits, t)[np.arange(len(labels)), labels]
        return float(-np.log(np.maximum(p, 1e-12)).mean())

    grid = grid if grid is not None else np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    best = float(grid[int(np.argmin([nll(float(t)) for t in grid]))])
    lo, hi = best / 1.06, best * 1.06
    phi = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return round((lo + hi) / 2, 4)


def adjust_prior(proba: np.ndarray, train_prior: np.ndarray, new_prior: np.ndarray) -> np.ndarray:
    """Bayes' rule with a new prior: ``p'(y|x) ∝ p(y|x) * new_prior(y) / train_prior(y)``."""
    ratio = np.asarray(new_prior, dtype=np.float64) / np.asarray(train_prior, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64) * ratio
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=np.float64)


def _with_floor(prior: np.ndarray, floor: float) -> np.ndarray:
    """``prior`` with every share >= ``floor``: floored classes get ``floor``, the others share the rest."""
    low = prior < floor
    if not low.any() or low.all():
        return np.asarray(prior / prior.sum(), dtype=np.float64)
    out = prior.copy()
    out[low] = floor
    out[~low] *= (1.0 - floor * low.sum()) / prior[~low].sum()
    return out


def estimate_prior(
    proba: np.ndarray,
    train_prior: np.ndarray,
    *,
    pseudo_count: float = 50.0,
    min_share: float = 0.02,
    max_iter: int = 200,
    tol: float = 1e-6,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """The label prior of the posts behind ``proba`` (unlabelled), by EM from ``train_prior`` (Saerens et al.).

    Each M-step adds ``pseudo_count`` virtual posts distributed as the plain mean of ``proba`` (what the
    model says before any correction): 100 posts move the estimate about two thirds of the way from that
    mean to the EM solution, 10 posts hardly at all. No class falls below ``min_share``. ``weights`` (one
    per post, e.g. the author's customer value) make it the prior of the weighted stream;
    ``pseudo_count`` then counts in units of the mean weight.
    """
    proba = np.asarray(proba, dtype=np.float64)
    train_prior = np.asarray(train_prior, dtype=np.float64)
    train_prior = train_prior / train_prior.sum()
    if len(proba) == 0:
        return train_prior.copy()
    prior = train_prior.copy()
    w = np.ones(len(proba)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(proba),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be one non-negative number per post, not all zero")
    w = w / w.mean()
    n = float(w.sum())
    plain = (proba * w[:, None]).sum(axis=0) / n
    for _ in range(max_iter):
        # Σ_i w_i * adjust_prior(proba, train_prior, prior)_i as two matrix-vector products: the rows' new
        # normalisers, then the weighted sum (20,000 posts: 0.1 ms a step against 1.2 ms with adjust_prior's arrays)
        ratio = prior / train_prior
        moved = ratio * (proba.T @ (w / (proba @ ratio)))
        new = (moved + pseudo_count * plain) / (n + pseudo_count)
        new = _with_floor(new, min_share)
        if np.abs(new - prior).max() < tol:
            prior = new
            break
        prior = new
    return prior
