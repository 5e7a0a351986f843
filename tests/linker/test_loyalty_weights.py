"""Loyalty points and the weight rule, hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linker.errors import ValueConfigError
from linker.value.loyalty import Activity, is_loyal, loyalty_points, unknown_activities
from linker.value.orders import Window
from linker.value.weights import Standing, WeightConfig, customer_weight

POINTS = {"purchase": 10.0, "positive_post": 5.0, "campaign_reaction": 3.0, "app_use": 1.0}
T = datetime(2024, 6, 1, tzinfo=UTC)


def test_points_sum_and_threshold_boundary() -> None:
    acts = [Activity(1, "purchase", T, f"o{i}") for i in range(9)]  # 90
    acts += [Activity(1, "positive_post", T, "p1"), Activity(1, "positive_post", T, "p2")]  # +10 = 100
    acts += [Activity(2, "purchase", T, f"q{i}") for i in range(9)]  # 90
    acts += [Activity(2, "positive_post", T, "p3"), Activity(2, "app_use", T), Activity(2, "app_use", T)]  # +7
    acts += [Activity(2, "campaign_reaction", T)]  # 90 + 5 + 1 + 1 + 3 = 100
    points = loyalty_points(acts, POINTS, customer_ids=[1, 2, 3])
    assert points == {1: 100.0, 2: 100.0, 3: 0.0}
    assert is_loyal(100.0, 100.0) and not is_loyal(99.99, 100.0)


def test_same_reference_counts_once() -> None:
    # a LoyaltyEvent 'purchase' for order o1 and the order o1 itself
    acts = [Activity(1, "purchase", T, "o1"), Activity(1, "purchase", T, "o1"), Activity(1, "app_use", T)]
    assert loyalty_points(acts, POINTS) == {1: 11.0}


def test_unknown_activity_earns_nothing_and_is_reported() -> None:
    acts = [Activity(1, "birthday", T), Activity(1, "app_use", T)]
    assert loyalty_points(acts, POINTS) == {1: 1.0}
    assert unknown_activities(acts, POINTS) == {"birthday"}


def test_window_limits_points() -> None:
    window = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    acts = [Activity(1, "purchase", datetime(2023, 12, 31, tzinfo=UTC)), Activity(1, "purchase", T)]
    assert loyalty_points(acts, POINTS, window) == {1: 10.0}
    assert loyalty_points([], POINTS, window) == {}


def test_weight_abc_and_prospect() -> None:
    cfg = WeightConfig()
    assert customer_weight(None, cfg) == 0.5
    assert customer_weight(Standing("A"), cfg) == 5.0
    assert customer_weight(Standing("B"), cfg) == 2.0
    assert customer_weight(Standing("C"), cfg) == 1.0


def test_weight_revenue_share_is_relative_to_average_and_clamped() -> None:
    cfg = WeightConfig(mode="revenue_share", prospect_weight=0.5, max_weight=50.0)
    assert customer_weight(Standing(revenue_share=0.3, n_customers=10), cfg) == 3.0
    assert customer_weight(Standing(revenue_share=0.0, n_customers=10), cfg) == 0.5  # never below a prospect
    assert customer_weight(Standing(revenue_share=0.9, n_customers=100), cfg) == 50.0  # capped


def test_weight_clv() -> None:
    cfg = WeightConfig(mode="clv")
    assert customer_weight(Standing(clv=200.0, mean_clv=100.0), cfg) == 2.0
    assert customer_weight(Standing(clv=-50.0, mean_clv=100.0), cfg) == 0.5
    assert customer_weight(Standing(clv=0.0, mean_clv=0.0), cfg) == 1.0


def test_weight_config_errors_name_the_setting() -> None:
    with pytest.raises(ValueConfigError, match="WEIGHT_MODE"):
        WeightConfig(mode="loudness").validate()
    with pytest.raises(ValueConfigError, match="ABC_WEIGHTS"):
        WeightConfig(abc_weights={"A": 1.0}).validate()
