"""Calibration and prior adjustment (nlp.calibration): small cases that can be checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.calibration import (
    adjust_prior,
    estimate_prior,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    proba = np.array([[0.8, 0.2]] * 10)
    labels = np.array([0] * 8 + [1] * 2)  # 80 % right at confidence 0.8
    assert expected_calibration_error(proba, labels) == pytest.approx(0.0)


def test_ece_of_an_overconfident_model() -> None:
    proba = np.array([[0.9, 0.1]] * 4 + [[0.3, 0.7]] * 6)
    labels = np.array([0, 0, 1, 1] + [1, 1, 1, 0, 0, 0])
    # bin 0.9: accuracy 0.5 -> gap 0.4 (4 posts); bin 0.7: accuracy 0.5 -> gap 0.2 (6 posts)
    assert expected_calibration_error(proba, labels) == pytest.approx((4 * 0.4 + 6 * 0.2) / 10)


def test_fit_temperature_recovers_the_temperature_of_the_data() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(20_000, 3))
    true_t = 2.0
    p = softmax(logits, true_t)
    labels = np.array([rng.choice(3, p=row) for row in p])
    t = fit_temperature(logits, labels)
    assert 1.85 < t < 2.15
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits, t), labels)
    assert after < before / 3


def test_temperature_never_changes_the_label() -> None:
    logits = np.array([[2.0, 1.0, -1.0], [0.1, 0.3, 0.2]])
    assert (softmax(logits, 3.0).argmax(1) == softmax(logits).argmax(1)).all()


def test_adjust_prior_by_hand() -> None:
    out = adjust_prior(np.array([[0.5, 0.5]]), np.array([0.5, 0.5]), np.array([0.8, 0.2]))
    assert out[0] == pytest.approx([0.8, 0.2])
    # p(y|x) = (0.6, 0.4) under a training prior (0.75, 0.25): the likelihood ratio is (0.8, 1.6) -> (1/3, 2/3)
    out = adjust_prior(np.array([[0.6, 0.4]]), np.array([0.75, 0.25]), np.array([0.5, 0.5]))
    assert out[0] == pytest.approx([1 / 3, 2 / 3])


def _posteriors(rng: np.random.Generator, prior: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from ``prior``; posteriors of a model trained under a uniform prior (class means 0, 2, 4)."""
    labels = rng.choice(3, size=n, p=prior)
    x = rng.normal(labels * 2.0, 1.0)
    loglik = -0.5 * (x[:, None] - np.array([0.0, 2.0, 4.0])[None, :]) ** 2
    return softmax(loglik), labels


def test_em_recovers_a_shifted_prior() -> None:
    rng = np.random.default_rng(1)
    true = np.array([0.7, 0.2, 0.1])
    proba, labels = _posteriors(rng, true, 20_000)
    uniform = np.full(3, 1 / 3)
    est = estimate_prior(proba, uniform, pseudo_count=0.0)
    assert np.abs(est - true).max() < 0.02
    adjusted = adjust_prior(proba, uniform, est)
    assert (adjusted.argmax(1) == labels).mean() > (proba.argmax(1) == labels).mean()
    assert expected_calibration_error(adjusted, labels) < expected_calibration_error(proba, labels)


def test_em_with_few_posts_stays_near_the_plain_mean() -> None:
    rng = np.random.default_rng(2)
    proba, _ = _posteriors(rng, np.array([0.9, 0.05, 0.05]), 10)
    uniform = np.full(3, 1 / 3)
    est = estimate_prior(proba, uniform, pseudo_count=50.0)
    free = estimate_prior(proba, uniform, pseudo_count=0.0)
    mean = proba.mean(axis=0)
    assert np.abs(est - mean).max() < np.abs(free - mean).max() / 3
    assert estimate_prior(np.zeros((0, 3)), uniform) == pytest.approx(uniform)


def test_em_keeps_every_class_above_the_floor() -> None:
    proba = np.tile([0.98, 0.01, 0.01], (500, 1))
    est = estimate_prior(proba, np.full(3, 1 / 3), pseudo_count=0.0, min_share=0.02)
    assert est.min() >= 0.0195 and est.sum() == pytest.approx(1.0)


def test_weighted_em_follows_the_weighted_posts() -> None:
    proba = np.array([[0.9, 0.05, 0.05]] * 10 + [[0.05, 0.05, 0.9]] * 10)
    uniform = np.full(3, 1 / 3)
    plain = estimate_prior(proba, uniform, pseudo_count=0.0)
    heavy_negative = estimate_prior(proba, uniform, pseudo_count=0.0, weights=np.array([5.0] * 10 + [1.0] * 10))
    assert plain[0] == pytest.approx(plain[2], abs=1e-6)
    assert heavy_negative[0] > 0.75 > heavy_negative[2]
    with pytest.raises(ValueError, match="one non-negative number per post"):
        estimate_prior(proba, uniform, weights=np.ones(3))
